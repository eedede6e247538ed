"""Every action through the official SDK sdk against the live server."""

from decimal import Decimal
from zoneinfo import ZoneInfo

from credits.models import AllocationRecord, CreditPool
from credits.services import credit_allocate
from customers.models import Customer, CustomerBalance, Reseller

from .conftest import error_code, models, sign_later


def _uins(world):
    return [customer.uin for customer in world.customers]


def test_query_partner_credit(world, sdk):
    credit_allocate(reseller=world.reseller, customer=world.customers[0], amount="1200.50")
    CustomerBalance.objects.filter(pk=world.customers[0].pk).update(used=Decimal("200.25"))

    resp = sdk.QueryPartnerCredit(models.QueryPartnerCreditRequest())

    assert resp.TotalCredit == 10000.0
    assert resp.AllocatedCredit == 1200.5
    assert resp.RemainingCredit == 8799.5
    assert resp.CustomerTotalCredit == 1200.5
    assert resp.CustomerRemainingCredit == 1000.25
    assert len(resp.RequestId) == 36


def test_query_customers_credit_pages_in_binding_order(world, sdk):
    credit_allocate(reseller=world.reseller, customer=world.customers[1], amount="300.00")
    req = models.QueryCustomersCreditRequest()
    req.Page, req.PageSize, req.Order = 1, 2, "asc"

    resp = sdk.QueryCustomersCredit(req)

    assert resp.Total == 3
    assert [row.ClientUin for row in resp.Data] == _uins(world)[:2]
    beta = resp.Data[1]
    assert (beta.Name, beta.Email, beta.Credit, beta.RemainingCredit) == ("Beta GmbH", "it@beta.example", 300.0, 300.0)
    assert beta.Arrears == "0" and beta.Force == 0 and beta.IdentifyType == 2
    assert len(beta.AssociationTime) == len("2026-01-01 00:00:00")

    req.Page = 2
    assert [row.ClientUin for row in sdk.QueryCustomersCredit(req).Data] == _uins(world)[2:]
    req.Page, req.PageSize, req.Order = 1, 100, "desc"
    assert [row.ClientUin for row in sdk.QueryCustomersCredit(req).Data] == _uins(world)[::-1]


def test_query_customers_credit_filters(world, sdk):
    def search(filter_type, text):
        req = models.QueryCustomersCreditRequest()
        req.FilterType, req.Filter, req.Page, req.PageSize = filter_type, text, 1, 100
        resp = sdk.QueryCustomersCredit(req)
        return resp.Total, sorted(row.ClientUin for row in resp.Data)

    alpha, beta, gamma = _uins(world)
    assert search("ClientUin", str(beta)) == (1, [beta])
    assert search("ClientUin", str(world.other_customer.uin)) == (0, [])
    assert search("Name", "gamma") == (1, [gamma])
    assert search("Remark", "gold") == (2, sorted([alpha, gamma]))
    assert search("Email", "@beta.") == (1, [beta])


def test_query_customers_credit_refuses_bad_paging_and_filters(world, sdk):
    for page, size in [(1, 0), (1, 101), (0, 10)]:
        req = models.QueryCustomersCreditRequest()
        req.Page, req.PageSize = page, size
        assert error_code(sdk.QueryCustomersCredit, req) == "InvalidParameter.Page"
    req = models.QueryCustomersCreditRequest()
    req.FilterType, req.Filter = "Phone", "123"
    assert error_code(sdk.QueryCustomersCredit, req) == "InvalidParameterValue"
    req = models.QueryCustomersCreditRequest()
    req.Order = "newest"
    assert error_code(sdk.QueryCustomersCredit, req) == "InvalidParameterValue"
    req = models.QueryCustomersCreditRequest()
    req.PageSize = "ten"
    assert error_code(sdk.QueryCustomersCredit, req) == "InvalidParameter"


def test_query_credit_by_uin_list(world, sdk):
    alpha, beta, _ = _uins(world)
    credit_allocate(reseller=world.reseller, customer=world.customers[0], amount="50.00")
    req = models.QueryCreditByUinListRequest()
    req.UinList = [beta, alpha]

    resp = sdk.QueryCreditByUinList(req)

    assert [(row.Uin, row.TotalCredit, row.RemainingCredit) for row in resp.Data] == [(beta, 0.0, 0.0), (alpha, 50.0, 50.0)]


def test_query_credit_by_uin_list_limits_and_scope(world, sdk):
    req = models.QueryCreditByUinListRequest()
    req.UinList = [world.customers[0].uin + n for n in range(51)]
    assert error_code(sdk.QueryCreditByUinList, req) == "InvalidParameterValue.UinList"
    req.UinList = []
    assert error_code(sdk.QueryCreditByUinList, req) == "InvalidParameterValue.UinList"
    req.UinList = [world.customers[0].uin, world.other_customer.uin]
    assert error_code(sdk.QueryCreditByUinList, req) == "UnauthorizedOperation.UinNoAuth"
    req.UinList = [-5]
    assert error_code(sdk.QueryCreditByUinList, req) == "InvalidParameterValue.InvalidUin"
    assert error_code(sdk.QueryCreditByUinList, models.QueryCreditByUinListRequest()) == "MissingParameter"


def test_query_direct_customers_credit(world, sdk):
    credit_allocate(reseller=world.reseller, customer=world.customers[2], amount="75.25")
    resp = sdk.QueryDirectCustomersCredit(models.QueryDirectCustomersCreditRequest())
    rows = {row.Uin: (row.TotalCredit, row.RemainingCredit) for row in resp.Data}
    assert rows == {world.customers[0].uin: (0.0, 0.0), world.customers[1].uin: (0.0, 0.0), world.customers[2].uin: (75.25, 75.25)}


def _allocate(sdk, uin, amount, remark=None):
    req = models.AllocateCustomerCreditRequest()
    req.ClientUin, req.AddedCredit = uin, amount
    if remark is not None:
        req.Remark = remark
    return sdk.AllocateCustomerCredit(req)


def test_allocate_and_repossess(world, sdk):
    customer = world.customers[0]

    resp = _allocate(sdk, customer.uin, 250.75, remark="June top-up")
    assert (resp.TotalCredit, resp.RemainingCredit) == (250.75, 250.75)
    resp = _allocate(sdk, customer.uin, -50.5)
    assert (resp.TotalCredit, resp.RemainingCredit) == (200.25, 200.25)

    records = list(AllocationRecord.objects.filter(customer=customer).order_by("id"))
    assert [record.amount for record in records] == [Decimal("250.75"), Decimal("-50.50")]
    first = records[0]
    assert first.source == "api" and first.operator_id == world.operator.user.pk and first.remark == "June top-up"
    assert world.operator_key.secret_id in first.operator_name
    assert CreditPool.objects.get(reseller=world.reseller).remaining == Decimal("9799.75")


def test_allocate_refusals_change_nothing(world, sdk):
    customer = world.customers[0]
    assert error_code(_allocate, sdk, customer.uin, 1.005) == "InvalidParameterValue.CreditAmountOutOfRange"
    assert error_code(_allocate, sdk, customer.uin, 0) == "InvalidParameterValue.CreditAmountOutOfRange"
    assert error_code(_allocate, sdk, customer.uin, 10000.01) == "FailedOperation.BalanceInsufficient"
    assert error_code(_allocate, sdk, customer.uin, -1) == "InvalidParameterValue.CreditAmountOutOfRange"
    assert error_code(_allocate, sdk, world.other_customer.uin, 10) == "UnauthorizedOperation.UinNoAuth"
    assert error_code(_allocate, sdk, customer.uin, "ten") == "InvalidParameter"
    assert error_code(_allocate, sdk, customer.uin, True) == "InvalidParameter"
    assert error_code(_allocate, sdk, customer.uin, 5, "x" * 256) == "InvalidParameterValue.RemarkTooLong"
    req = models.AllocateCustomerCreditRequest()
    req.ClientUin = customer.uin
    assert error_code(sdk.AllocateCustomerCredit, req) == "MissingParameter"

    assert not AllocationRecord.objects.exists()
    assert CreditPool.objects.get(reseller=world.reseller).remaining == Decimal("10000.00")
    assert Customer.objects.get(pk=customer.pk).credit == 0
    assert Customer.objects.get(pk=world.other_customer.pk).credit == 0


def test_allocate_with_a_repeated_client_token_allocates_once(world, sdk, monkeypatch):
    customer = world.customers[1]
    params = {"ClientUin": customer.uin, "AddedCredit": 100, "ClientToken": "order-8812"}

    first = sdk.call_json("AllocateCustomerCredit", params)["Response"]
    # A deliberate retry is signed anew (the same signature would be a replay, answered as one).
    sign_later(monkeypatch, 1)
    again = sdk.call_json("AllocateCustomerCredit", params)["Response"]

    assert first["TotalCredit"] == again["TotalCredit"] == 100
    assert first["RequestId"] != again["RequestId"]
    assert AllocationRecord.objects.filter(customer=customer).count() == 1
    assert CreditPool.objects.get(reseller=world.reseller).remaining == Decimal("9900.00")
    changed = {**params, "AddedCredit": 200}
    assert error_code(sdk.call_json, "AllocateCustomerCredit", changed) == "FailedOperation.IdempotencyConflict"
    assert AllocationRecord.objects.filter(customer=customer).count() == 1


def test_viewer_key_reads_but_cannot_allocate(world, viewer_sdk):
    assert viewer_sdk.QueryPartnerCredit(models.QueryPartnerCreditRequest()).TotalCredit == 10000.0
    assert error_code(_allocate, viewer_sdk, world.customers[0].uin, 10) == "UnauthorizedOperation"
    req = models.ModifyClientRemarkRequest()
    req.ClientUin, req.Remark = str(world.customers[0].uin), "mine"
    assert error_code(viewer_sdk.ModifyClientRemark, req) == "UnauthorizedOperation"
    assert not AllocationRecord.objects.exists()
    assert Customer.objects.get(pk=world.customers[0].pk).remark == "gold"


def test_query_credit_allocation_history(world, sdk):
    customer = world.customers[0]
    for amount in ["10.00", "20.00", "-5.00"]:
        _allocate(sdk, customer.uin, float(amount), remark=f"r{amount}")
    req = models.QueryCreditAllocationHistoryRequest()
    req.ClientUin, req.Page, req.PageSize = customer.uin, 1, 2

    resp = sdk.QueryCreditAllocationHistory(req)

    assert resp.Total == 3
    assert [(h.Credit, h.AllocatedCredit, h.ClientCreditAfter, h.Remark) for h in resp.History] == [
        (-5.0, 25.0, 25.0, "r-5.00"),
        (20.0, 30.0, 30.0, "r20.00"),
    ]
    assert world.operator.user.username in resp.History[0].Operator
    req.Page = 2
    assert [h.Credit for h in sdk.QueryCreditAllocationHistory(req).History] == [10.0]
    req.ClientUin = world.other_customer.uin
    assert error_code(sdk.QueryCreditAllocationHistory, req) == "UnauthorizedOperation.UinNoAuth"
    req.ClientUin, req.PageSize = customer.uin, 101
    assert error_code(sdk.QueryCreditAllocationHistory, req) == "InvalidParameter.Page"


def test_describe_customer_info(world, sdk):
    alpha, beta, _ = world.customers
    CustomerBalance.objects.filter(pk=beta.pk).update(frozen=True)
    CustomerBalance.objects.filter(pk=beta.pk).update(used=Decimal("1.00"))
    req = models.DescribeCustomerInfoRequest()
    req.CustomerUin = [alpha.uin, beta.uin]

    data = sdk.DescribeCustomerInfo(req).Data

    assert [(d.CustomerUin, d.Name, d.Mark, d.Email) for d in data] == [
        (str(alpha.uin), "Alpha Ltd", "gold", "ops@alpha.example"),
        (str(beta.uin), "Beta GmbH", "", "it@beta.example"),
    ]
    assert (data[0].AccountStatus, data[0].HasExpense, data[0].AuthType) == ("0", 0, 1)
    assert (data[1].AccountStatus, data[1].HasExpense) == ("1", 1)
    req.CustomerUin = [alpha.uin + n for n in range(21)]
    assert error_code(sdk.DescribeCustomerInfo, req) == "InvalidParameterValue.UinList"
    req.CustomerUin = [world.other_customer.uin]
    assert error_code(sdk.DescribeCustomerInfo, req) == "UnauthorizedOperation.UinNoAuth"


def test_describe_customer_uin(world, sdk):
    req = models.DescribeCustomerUinRequest()
    req.Page, req.PageSize = 1, 2
    resp = sdk.DescribeCustomerUin(req)
    assert resp.Total == "3"
    assert [d.CustomerUin for d in resp.Data] == [str(uin) for uin in _uins(world)[::-1][:2]]
    req.Page = 3
    assert sdk.DescribeCustomerUin(req).Data == []
    req.PageSize = 0
    assert error_code(sdk.DescribeCustomerUin, req) == "InvalidParameter.Page"


def test_modify_client_remark(world, sdk):
    customer = world.customers[1]
    req = models.ModifyClientRemarkRequest()
    req.ClientUin, req.Remark = str(customer.uin), "  Key account  "

    assert sdk.ModifyClientRemark(req).ClientRemark == "Key account"
    assert Customer.objects.get(pk=customer.pk).remark == "Key account"

    req.Remark = "x" * 256
    assert error_code(sdk.ModifyClientRemark, req) == "InvalidParameterValue.RemarkTooLong"
    req.ClientUin, req.Remark = str(world.other_customer.uin), "hijack"
    assert error_code(sdk.ModifyClientRemark, req) == "UnauthorizedOperation.UinNoAuth"
    assert Customer.objects.get(pk=customer.pk).remark == "Key account"
    assert Customer.objects.get(pk=world.other_customer.pk).remark == ""


def test_unknown_parameter(world, sdk):
    assert error_code(sdk.call_json, "QueryPartnerCredit", {"Foo": 1}) == "UnknownParameter"
    assert error_code(sdk.call_json, "QueryCustomersCredit", {"Page": 1.5}) == "InvalidParameter"


def test_every_page_is_the_matching_slice_of_the_whole_list(world, sdk):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import CustomerFactory

    moment = timezone.now() - timedelta(days=3)
    # Ties on binding time are broken by id, the same way in both directions.
    for n in range(8):
        CustomerFactory(reseller=world.reseller, bound_at=moment + timedelta(hours=n // 3))
    for order in ["desc", "asc"]:
        everyone = list(Customer.objects.filter(reseller=world.reseller).order_by(
            *(["bound_at", "id"] if order == "asc" else ["-bound_at", "-id"])).values_list("uin", flat=True))
        assert len(everyone) == 11
        for size in [1, 3, 4, 11, 20]:
            for page in range(1, len(everyone) // size + 3):
                req = models.QueryCustomersCreditRequest()
                req.Page, req.PageSize, req.Order = page, size, order
                resp = sdk.QueryCustomersCredit(req)
                assert resp.Total == 11
                assert [row.ClientUin for row in resp.Data] == everyone[(page - 1) * size : page * size], (order, size, page)
                if order == "desc":
                    req = models.DescribeCustomerUinRequest()
                    req.Page, req.PageSize = page, size
                    uins = [int(d.CustomerUin) for d in sdk.DescribeCustomerUin(req).Data]
                    assert uins == everyone[(page - 1) * size : page * size], (size, page)


def test_a_bad_stored_time_zone_answers_in_the_default_zone(world, sdk, settings, caplog):
    settings.DEFAULT_RESELLER_TIME_ZONE = "Asia/Tokyo"
    Reseller.objects.filter(pk=world.reseller.pk).update(time_zone="Mars/Olympus_Mons")

    data = sdk.QueryCustomersCredit(models.QueryCustomersCreditRequest()).Data

    tokyo = ZoneInfo("Asia/Tokyo")
    expected = {c.uin: c.bound_at.astimezone(tokyo).strftime("%Y-%m-%d %H:%M:%S") for c in Customer.objects.all()}
    assert {row.ClientUin: row.AssociationTime for row in data} == {uin: expected[uin] for uin in _uins(world)}
    # Logged once for the request, not once per time it shows.
    assert caplog.text.count("'Mars/Olympus_Mons' is not a time zone") == 1


def test_reads_answer_when_the_cache_is_unreachable(world, sdk, settings, caplog):
    # Redis down costs the cached customer count and the rate limit's count, never an answer.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }

    assert sdk.DescribeCustomerUin(models.DescribeCustomerUinRequest()).Total == "3"
    assert sdk.QueryCustomersCredit(models.QueryCustomersCreditRequest()).Total == 3
    assert "customer count not cached: the cache is unavailable" in caplog.text
    assert "API rate limit not counted: the cache is unavailable" in caplog.text
