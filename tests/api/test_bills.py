"""The bill actions (issue 11) through the official SDK's typed client: every request and response
model round-trips, the totals equal the rollups (and the charges), scoped to the key's reseller."""

from datetime import UTC, datetime
from decimal import Decimal

from credits.models import UsageCharge, UsageDaily
from credits.services import usage_charge_check, usage_charges_ingest

from .conftest import error_code, models


def _charges(world):
    """Charges of Alpha (Asia/Shanghai reseller zone): January and February 2026 by the zone, one
    charge that is 31 January in UTC but 1 February in UTC+8."""
    alpha = world.customers[0]
    rows = [
        ("j-1", "10.00", datetime(2026, 1, 5, 3, 0, tzinfo=UTC), "CVM", "ap-singapore", "postPay", "ins-1"),
        ("j-2", "2.50", datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "COS", "ap-hongkong", "prePay", ""),
        ("j-3", "1.25", datetime(2026, 1, 20, 9, 0, tzinfo=UTC), "CVM", "", "postPay", "ins-2"),
        ("edge", "7.00", datetime(2026, 1, 31, 17, 0, tzinfo=UTC), "CVM", "ap-singapore", "postPay", "ins-1"),
        ("f-1", "4.00", datetime(2026, 2, 3, 1, 0, tzinfo=UTC), "CDN", "ap-singapore", "postPay", ""),
    ]
    usage_charges_ingest(reseller=world.reseller, rows=[
        usage_charge_check(customer_uin=alpha.uin, amount=amount, incurred_at=at, external_id=external_id,
                           product=product, region=region, pay_mode=mode, instance_id=instance)
        for external_id, amount, at, product, region, mode, instance in rows])
    return alpha


def _rollup_total(customer, first, last, **filters) -> Decimal:
    return sum(UsageDaily.objects.filter(customer=customer, day__gte=first, day__lte=last, **filters)
               .values_list("amount", flat=True), Decimal("0"))


def test_customer_bill_summary_is_the_months_rollups_in_the_resellers_zone(world, sdk):
    alpha = _charges(world)
    req = models.DescribeCustomerBillSummaryRequest()
    req.CustomerUin, req.Month = alpha.uin, "2026-01"
    resp = sdk.DescribeCustomerBillSummary(req)
    assert resp.TotalCost == 13.75 == float(_rollup_total(alpha, "2026-01-01", "2026-01-31"))
    req.PayMode = "prePay"
    assert sdk.DescribeCustomerBillSummary(req).TotalCost == 2.5
    req.PayMode, req.Month = "", "2026-02"
    assert sdk.DescribeCustomerBillSummary(req).TotalCost == 11.0  # the edge charge is 1 February in UTC+8
    req.IsConfirmed = "0"
    assert sdk.DescribeCustomerBillSummary(req).TotalCost == 11.0
    assert sum(UsageCharge.objects.filter(customer=alpha).values_list("amount", flat=True)) == Decimal("24.75")


def test_bill_detail_by_day_answers_a_string(world, sdk):
    alpha = _charges(world)
    req = models.DescribeCustomerBillDetailByDayRequest()
    req.CustomerUin, req.Date = alpha.uin, "2026-01-05"
    resp = sdk.DescribeCustomerBillDetailByDay(req)
    assert resp.TotalCost == "12.50" and isinstance(resp.TotalCost, str)
    req.Date = "2026-01-06"
    assert sdk.DescribeCustomerBillDetailByDay(req).TotalCost == "0.00"


def test_bill_detail_pages_the_months_charges_with_the_fields_a_charge_knows(world, sdk):
    alpha = _charges(world)
    req = models.DescribeCustomerBillDetailRequest()
    req.CustomerUin, req.Month, req.Page, req.PageSize = alpha.uin, "2026-01", 1, 2
    resp = sdk.DescribeCustomerBillDetail(req)
    assert resp.Total == 3
    first = resp.DetailSet[0]
    assert isinstance(first, models.BillDetailData)
    assert (first.ProductName, first.Region, first.InstanceId, first.TotalCost, first.Currency) == (
        "CVM", "", "ins-2", "1.25", "USD")
    assert first.UsageStartTime == "2026-01-20 17:00:00" and first.TransactionId == "j-3"
    assert first.BillingMode == "Pay-As-You-Go resources" and first.OwnerAccountId == alpha.uin
    assert first.PayerAccountId == world.reseller.uin and first.Id == str(UsageCharge.objects.get(external_id="j-3").pk)
    assert first.ComponentName == "" and first.OriginalCost == ""
    req.Page = 2
    second = sdk.DescribeCustomerBillDetail(req)
    assert [d.TransactionId for d in second.DetailSet] == ["j-1"]
    req.Page, req.PageSize, req.PayMode = 1, 200, "prePay"
    only = sdk.DescribeCustomerBillDetail(req)
    assert only.Total == 1 and [d.TransactionId for d in only.DetailSet] == ["j-2"]
    assert only.DetailSet[0].BillingMode == "Yearly/monthly subscription"
    req.PayMode, req.Month = "", "2026-02"
    feb = sdk.DescribeCustomerBillDetail(req)
    assert feb.Total == 2 and sum(Decimal(d.TotalCost) for d in feb.DetailSet) == Decimal("11.00")


def test_summaries_by_product_region_and_pay_mode(world, sdk):
    alpha = _charges(world)

    def ask(name):
        req = getattr(models, f"DescribeBillSummaryBy{name}Request")()
        req.BillMonth, req.CustomerUin = "2026-01", alpha.uin
        return getattr(sdk, f"DescribeBillSummaryBy{name}")(req).SummaryOverview

    products = ask("Product")
    assert all(isinstance(item, models.BusinessSummaryOverviewItem) for item in products)
    assert [(p.BusinessCode, p.TotalCost) for p in products] == [("COS", "2.50000000"), ("CVM", "11.25000000")]
    regions = ask("Region")
    assert all(isinstance(item, models.RegionSummaryOverviewItem) for item in regions)
    assert [(r.RegionId, r.TotalCost) for r in regions] == [
        ("", "1.25000000"), ("ap-hongkong", "2.50000000"), ("ap-singapore", "10.00000000")]
    modes = ask("PayMode")
    assert all(isinstance(item, models.PayModeSummaryOverviewItem) for item in modes)
    assert [(m.PayMode, m.PayModeName, m.TotalCost, m.Detail) for m in modes] == [
        ("postPay", "Pay-As-You-Go resources", "11.25000000", []), ("prePay", "Yearly/monthly subscription", "2.50000000", [])]
    for items in (products, regions, modes):
        assert sum(Decimal(i.TotalCost) for i in items) == _rollup_total(alpha, "2026-01-01", "2026-01-31")


def test_another_resellers_customer_and_bad_months_and_dates(world, sdk):
    _charges(world)
    theirs = world.other_customer.uin
    req = models.DescribeCustomerBillSummaryRequest()
    req.CustomerUin, req.Month = theirs, "2026-01"
    assert error_code(sdk.DescribeCustomerBillSummary, req) == "UnauthorizedOperation.UinNoAuth"
    for month in ("2026-13", "2026-1", "January", "1999-12"):
        req.CustomerUin, req.Month = world.customers[0].uin, month
        assert error_code(sdk.DescribeCustomerBillSummary, req) == "InvalidParameterValue", month
    req.Month, req.IsConfirmed = "2026-01", "1"
    assert error_code(sdk.DescribeCustomerBillSummary, req) == "InvalidParameterValue"
    req.IsConfirmed, req.ActionType = "", "prepay_renew"
    assert error_code(sdk.DescribeCustomerBillSummary, req) == "InvalidParameterValue"
    day = models.DescribeCustomerBillDetailByDayRequest()
    day.CustomerUin, day.Date = world.customers[0].uin, "2026-02-30"
    assert error_code(sdk.DescribeCustomerBillDetailByDay, day) == "InvalidParameterValue"
    day.CustomerUin, day.Date = theirs, "2026-02-01"
    assert error_code(sdk.DescribeCustomerBillDetailByDay, day) == "UnauthorizedOperation.UinNoAuth"
    for name in ("Product", "Region", "PayMode"):
        summary = getattr(models, f"DescribeBillSummaryBy{name}Request")()
        summary.BillMonth, summary.CustomerUin = "2026/01", world.customers[0].uin
        assert error_code(getattr(sdk, f"DescribeBillSummaryBy{name}"), summary) == "InvalidParameterValue"
        summary.BillMonth, summary.CustomerUin = "2026-01", theirs
        assert error_code(getattr(sdk, f"DescribeBillSummaryBy{name}"), summary) == "UnauthorizedOperation.UinNoAuth"
    detail = models.DescribeCustomerBillDetailRequest()
    detail.CustomerUin, detail.Month, detail.PageSize = world.customers[0].uin, "2026-01", 201
    assert error_code(sdk.DescribeCustomerBillDetail, detail) == "InvalidParameter.Page"
