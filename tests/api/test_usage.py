"""ReportCustomerUsage: our own action in the same envelope, through the SDK's call_json."""

from decimal import Decimal

from credits.models import UsageCharge
from customers.models import Customer

from .conftest import error_code


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
