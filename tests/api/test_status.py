"""Account status through the official SDK: ForceQN both ways, Force in QueryCustomersCredit,
AccountStatus in DescribeCustomerInfo, and CheckCustomerPurchase (our own action, call_json)."""

import time
from decimal import Decimal

from credits.models import CreditPool
from credits.services import credit_allocate
from customers.models import CustomerBalance, StatusEvent
from notifications.models import Alert

from .conftest import error_code, models


def _force(sdk, uin, kind):
    req = models.ForceQNRequest()
    req.ClientUin, req.Type = uin, kind
    return sdk.ForceQN(req)


def _force_of(sdk, uin) -> int:
    req = models.QueryCustomersCreditRequest()
    req.FilterType, req.Filter, req.Page, req.PageSize = "ClientUin", str(uin), 1, 10
    [row] = sdk.QueryCustomersCredit(req).Data
    return row.Force


def _account_status(sdk, uin) -> str:
    req = models.DescribeCustomerInfoRequest()
    req.CustomerUin = [uin]
    return sdk.DescribeCustomerInfo(req).Data[0].AccountStatus


def test_force_qn_freezes_and_restores(world, sdk):
    customer = world.customers[0]
    assert (_force_of(sdk, customer.uin), _account_status(sdk, customer.uin)) == (0, "0")

    resp = _force(sdk, customer.uin, 2)
    assert (resp.C, resp.M) == (2, "frozen") and len(resp.RequestId) == 36
    assert (_force_of(sdk, customer.uin), _account_status(sdk, customer.uin)) == (2, "1")
    # A second identical request within the same second carries the same signature: the API answers
    # it as a replay of the first. A second later it is a new request.
    time.sleep(1.1)
    assert _force(sdk, customer.uin, 2).M == "already frozen"
    event = StatusEvent.objects.get(customer=customer)
    assert (event.kind, event.cause, event.actor) == ("frozen", "api", world.operator.user)
    assert world.operator_key.secret_id in event.actor_name

    resp = _force(sdk, customer.uin, 0)
    assert (resp.C, resp.M) == (0, "restored")
    assert (_force_of(sdk, customer.uin), _account_status(sdk, customer.uin)) == (0, "0")
    assert list(StatusEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True)) == [
        "frozen", "unfrozen"]
    assert Alert.objects.filter(kind="status", customer=customer).count() == 2


def test_force_qn_refusals_change_nothing(world, sdk, viewer_sdk):
    customer = world.customers[0]
    assert error_code(_force, sdk, world.other_customer.uin, 2) == "UnauthorizedOperation.UinNoAuth"
    assert error_code(_force, sdk, customer.uin, 1) == "InvalidParameterValue.Type"
    assert error_code(_force, sdk, customer.uin, 3) == "InvalidParameterValue.Type"
    assert error_code(_force, viewer_sdk, customer.uin, 2) == "UnauthorizedOperation"
    assert not StatusEvent.objects.exists()
    assert not CustomerBalance.objects.filter(frozen=True).exists()

    _force(sdk, customer.uin, 2)
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal("5.00"))
    assert error_code(_force, sdk, customer.uin, 0) == "FailedOperation.CustomerOverdue"
    assert _force_of(sdk, customer.uin) == 2 and StatusEvent.objects.count() == 1


def test_account_status_reports_overdue(world, sdk):
    customer = world.customers[1]
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal("1.00"))
    assert (_account_status(sdk, customer.uin), _force_of(sdk, customer.uin)) == ("2", 0)


def _check(sdk, uin, amount, pay_mode):
    return sdk.call_json("CheckCustomerPurchase", {"ClientUin": uin, "Amount": amount, "PayMode": pay_mode})["Response"]


def test_check_customer_purchase_names_the_rule(world, sdk):
    customer = world.customers[0]
    credit_allocate(reseller=world.reseller, customer=customer, amount="100.00")
    answer = _check(sdk, customer.uin, "100.00", "PREPAID")
    assert (answer["Allowed"], answer["Code"], answer["Message"]) == (True, "", "")
    answer = _check(sdk, customer.uin, "100.01", "PREPAID")
    assert (answer["Allowed"], answer["Code"]) == (False, "FailedOperation.CustomerCreditInsufficient")
    assert "100.00 USD" in answer["Message"]
    assert _check(sdk, customer.uin, "500.00", "POSTPAID")["Allowed"] is True

    CreditPool.objects.filter(reseller=world.reseller).update(remaining=Decimal("0.00"))
    assert _check(sdk, customer.uin, "1.00", "POSTPAID")["Code"] == "FailedOperation.PoolExhausted"

    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal("100.50"))
    assert _check(sdk, customer.uin, "1.00", "POSTPAID")["Code"] == "FailedOperation.CustomerOverdue"
    _force(sdk, customer.uin, 2)
    answer = _check(sdk, customer.uin, "1.00", "POSTPAID")
    assert (answer["Allowed"], answer["Code"]) == (False, "FailedOperation.CustomerFrozen")


def test_check_customer_purchase_refuses_bad_input(world, sdk):
    customer = world.customers[0]
    assert error_code(_check, sdk, customer.uin, "1.00", "MONTHLY") == "InvalidParameterValue.PayMode"
    assert error_code(_check, sdk, customer.uin, "0", "PREPAID") == "InvalidParameterValue.CreditAmountOutOfRange"
    assert error_code(_check, sdk, customer.uin, "1.001", "PREPAID") == "InvalidParameterValue.CreditAmountOutOfRange"
    assert error_code(_check, sdk, world.other_customer.uin, "1.00", "PREPAID") == "UnauthorizedOperation.UinNoAuth"
