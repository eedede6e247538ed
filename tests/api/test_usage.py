"""ReportCustomerUsage: our own action in the same envelope, through the SDK's call_json."""

from decimal import Decimal
from functools import partial

import pytest

from credits.models import UsageCharge
from customers.models import Customer
from tests.threads import run_together

from .conftest import error_code, sdk_client


def _charge(uin, external_id, amount="12.34", **extra):
    return {"ClientUin": uin, "Amount": amount, "IncurredAt": "2026-01-15T08:00:00+08:00",
            "ExternalId": external_id, **extra}


def _used(customer):
    return Customer.objects.get(pk=customer.pk).used


def test_report_usage_counts_accepted_and_duplicates(world, sdk):
    alpha, beta, _ = world.customers
    batch = [_charge(alpha.uin, "bill-1", "10.00", Product="CVM"), _charge(beta.uin, "bill-2", 2.5)]

    first = sdk.call_json("ReportCustomerUsage", {"Charges": batch})["Response"]
    assert (first["Accepted"], first["Duplicates"]) == (2, 0)
    assert (_used(alpha), _used(beta)) == (Decimal("10.00"), Decimal("2.50"))
    assert UsageCharge.objects.get(external_id="bill-1").product == "CVM"

    again = sdk.call_json("ReportCustomerUsage", {"Charges": batch + [_charge(alpha.uin, "bill-3", "1.00")]})["Response"]
    assert (again["Accepted"], again["Duplicates"]) == (1, 2)
    assert _used(alpha) == Decimal("11.00")


def test_a_bad_charge_anywhere_records_nothing(world, sdk):
    alpha = world.customers[0]
    good = [_charge(alpha.uin, f"ok-{n}") for n in range(5)]
    bad_batches = {
        "InvalidParameterValue.Amount": good + [_charge(alpha.uin, "bad", "1.005")],
        "InvalidParameterValue.IncurredAt": good + [{**_charge(alpha.uin, "bad"), "IncurredAt": "yesterday"}],
        "InvalidParameterValue.ExternalId": good + [_charge(alpha.uin, "ok-1")],
        "UnauthorizedOperation.UinNoAuth": good + [_charge(world.other_customer.uin, "theirs")],
        "MissingParameter": good + [{"ClientUin": alpha.uin, "Amount": "1.00", "IncurredAt": "2026-01-01T00:00:00Z"}],
        "UnknownParameter": good + [{**_charge(alpha.uin, "bad"), "Currency": "USD"}],
        "InvalidParameter": good + [{**_charge(alpha.uin, "bad"), "Amount": [1]}],
    }
    for code, batch in bad_batches.items():
        assert error_code(sdk.call_json, "ReportCustomerUsage", {"Charges": batch}) == code, code
    assert not UsageCharge.objects.exists()
    assert _used(alpha) == 0


def test_batch_size_limits(world, sdk):
    alpha = world.customers[0]
    assert error_code(sdk.call_json, "ReportCustomerUsage", {"Charges": []}) == "InvalidParameterValue.Charges"
    too_many = [_charge(alpha.uin, f"e-{n}", "0.01") for n in range(1001)]
    assert error_code(sdk.call_json, "ReportCustomerUsage", {"Charges": too_many}) == "InvalidParameterValue.Charges"
    assert not UsageCharge.objects.exists()
    full = too_many[:1000]
    assert sdk.call_json("ReportCustomerUsage", {"Charges": full})["Response"]["Accepted"] == 1000
    assert _used(alpha) == Decimal("10.00")


def test_viewer_cannot_report_usage(world, viewer_sdk):
    batch = [_charge(world.customers[0].uin, "v-1")]
    assert error_code(viewer_sdk.call_json, "ReportCustomerUsage", {"Charges": batch}) == "UnauthorizedOperation"
    assert not UsageCharge.objects.exists()


@pytest.mark.postgres
def test_concurrent_batches_over_the_same_customers_add_every_charge_once(world, endpoint):
    """Batches racing over the same customers (each listing them in another order, as billing
    exports do) with some charges sent by every batch: no deadlock, no lost add, no double count."""
    key = world.operator_key
    customers = world.customers
    senders, batches_each, own_per_customer = 6, 2, 5
    shared = [_charge(customer.uin, f"shared-{customer.uin}-{n}", "0.50") for customer in customers for n in range(3)]

    def batch(sender: int, number: int) -> list[dict]:
        order = customers[sender % 3:] + customers[:sender % 3]
        own = [_charge(c.uin, f"s{sender}-b{number}-{c.uin}-{n}", f"{sender + 1}.{n}1")
               for n in range(own_per_customer) for c in order]
        return own + shared

    answers: list[dict] = []

    def sender(number: int) -> None:
        client = sdk_client(endpoint, key.secret_id, key.secret_key)
        for b in range(batches_each):
            answers.append(client.call_json("ReportCustomerUsage", {"Charges": batch(number, b)})["Response"])

    assert run_together([partial(sender, n) for n in range(senders)]) == []

    sent = senders * batches_each * (own_per_customer * len(customers) + len(shared))
    recorded = UsageCharge.objects.count()
    assert recorded == senders * batches_each * own_per_customer * len(customers) + len(shared)
    assert sum(a["Accepted"] for a in answers) == recorded and sum(a["Duplicates"] for a in answers) == sent - recorded
    expected = {c.pk: Decimal("0.00") for c in customers}
    for n in range(senders):
        for b in range(batches_each):
            for charge in batch(n, b)[: own_per_customer * len(customers)]:
                expected[Customer.objects.get(uin=charge["ClientUin"]).pk] += Decimal(charge["Amount"])
    for customer in customers:
        expected[customer.pk] += Decimal("1.50")  # its three shared charges, once
        charged = sum(UsageCharge.objects.filter(customer=customer).values_list("amount", flat=True))
        assert _used(customer) == charged == expected[customer.pk]


def test_report_usage_takes_region_pay_mode_and_instance_and_refuses_an_unknown_pay_mode(world, sdk):
    alpha = world.customers[0]
    sent = [_charge(alpha.uin, "r-1", "3.00", Product="CVM", Region="ap-singapore", PayMode="prePay", InstanceId="ins-9"),
            _charge(alpha.uin, "r-2", "1.00")]
    assert sdk.call_json("ReportCustomerUsage", {"Charges": sent})["Response"]["Accepted"] == 2
    first, second = UsageCharge.objects.get(external_id="r-1"), UsageCharge.objects.get(external_id="r-2")
    assert (first.region, first.pay_mode, first.instance_id) == ("ap-singapore", "prePay", "ins-9")
    assert (second.region, second.pay_mode, second.instance_id) == ("", "postPay", "")
    bad = [_charge(alpha.uin, "r-3", PayMode="monthly")]
    assert error_code(sdk.call_json, "ReportCustomerUsage", {"Charges": bad}) == "InvalidParameterValue.PayMode"
    assert not UsageCharge.objects.filter(external_id="r-3").exists()
