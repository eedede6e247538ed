"""How a write request reaches the database (api.endpoint._write_once): its first try is one
transaction with no savepoint, in which an allocation is the one prepared statement of
credit_allocate's one_statement. Whatever that try raises rolls all of it back, the claim included;
a second transaction claims again and stores the answer: the refusal, or the allocation its one
statement did not finish, run again with a savepoint. Each case answers as before, once, and a
replay gets that answer; the checks before the write (the rate limit) count the request once."""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import ratelimit
from api.models import SignedRequest
from api.signing import authorization_header
from credits.models import AllocationRecord, CreditPool
from credits.services import AllocationUnfinished, credit_allocate, usage_charge_record
from customers.models import CustomerBalance, StatusEvent

from .conftest import signed_by_sdk

pytestmark = pytest.mark.postgres


def _post(key, action: str, params: dict, *, timestamp: int | None = None) -> tuple[dict, str]:
    """The request signed as the SDK signs it, sent through Django in this thread (so that its
    statements are captured on this connection): (the answer's Response, the signature)."""
    body = json.dumps(params).encode()
    timestamp = timestamp or int(time.time())
    headers = {"Content-Type": "application/json", "Host": "testserver", "X-TC-Action": action,
               "X-TC-Version": "2022-09-28", "X-TC-Timestamp": str(timestamp)}
    authorization = authorization_header(
        secret_id=key.secret_id, secret_key=key.secret_key, body=body, headers=headers, timestamp=timestamp
    )
    response = Client().post(
        "/", data=body, content_type="application/json", HTTP_X_TC_ACTION=action, HTTP_X_TC_VERSION="2022-09-28",
        HTTP_X_TC_TIMESTAMP=str(timestamp), HTTP_AUTHORIZATION=authorization, HTTP_HOST="testserver",
    )
    assert response.status_code == 200
    return json.loads(response.content)["Response"], authorization.split("Signature=")[1]


def _statements(captured) -> list[str]:
    """The statements sent, by their first word; a connection's first PREPAREs are left out."""
    return [query["sql"].split()[0] for query in captured.captured_queries if not query["sql"].startswith("PREPARE")]


@pytest.fixture
def counted(monkeypatch):
    """How many times the rate limit counted a request."""
    calls = []
    real = ratelimit.allow

    def allow(**kwargs):
        calls.append(kwargs["action"])
        return real(**kwargs)

    monkeypatch.setattr(ratelimit, "allow", allow)
    return calls


def _pool(world) -> Decimal:
    return CreditPool.objects.get(reseller=world.reseller).remaining


def test_an_allocation_is_one_prepared_statement_in_the_request_transaction(world, counted):
    customer = world.customers[0]
    _post(world.operator_key, "AllocateCustomerCredit", {"ClientUin": customer.uin, "AddedCredit": 1})  # prepares
    with CaptureQueriesContext(connection) as captured:
        answer, signature = _post(world.operator_key, "AllocateCustomerCredit",
                                  {"ClientUin": customer.uin, "AddedCredit": 10})
    assert "Error" not in answer and answer["TotalCredit"] == 11
    # The key, then one transaction: the claim, the customer by UIN, the allocation, the answer.
    # No savepoint, and nothing after the allocation but the answer and the commit.
    assert _statements(captured) == ["EXECUTE", "BEGIN", "EXECUTE", "EXECUTE", "EXECUTE", "EXECUTE", "COMMIT"]
    assert json.loads(SignedRequest.objects.get(signature=signature).answer)["Response"] == answer
    assert counted == ["AllocateCustomerCredit"] * 2
    assert _pool(world) == Decimal("9989.00") and AllocationRecord.objects.count() == 2


def test_a_refused_allocation_is_answered_by_a_second_transaction_and_counted_once(world, counted):
    customer = world.customers[0]
    with CaptureQueriesContext(connection) as captured:
        answer, signature = _post(world.operator_key, "AllocateCustomerCredit",
                                  {"ClientUin": customer.uin, "AddedCredit": 20000})
    assert answer["Error"]["Code"] == "FailedOperation.BalanceInsufficient"
    sent = _statements(captured)
    # The first try rolled back; the second claims again, allocates under a savepoint (which
    # the refusal rolls back) and stores the refusal.
    rolled_back = sent.index("ROLLBACK")
    assert sent[sent.index("BEGIN"):rolled_back + 1] == ["BEGIN", "EXECUTE", "EXECUTE", "EXECUTE", "ROLLBACK"]
    second = sent[rolled_back + 1:]
    assert second[:4] == ["BEGIN", "EXECUTE", "SAVEPOINT", "EXECUTE"] and "WITH" in second
    assert second[-2:] == ["EXECUTE", "COMMIT"]
    assert json.loads(SignedRequest.objects.get(signature=signature).answer)["Response"] == answer
    assert counted == ["AllocateCustomerCredit"]
    assert _pool(world) == Decimal("10000.00") and AllocationRecord.objects.count() == 0


def test_a_request_refused_before_it_allocates_is_not_run_again(world, counted):
    with CaptureQueriesContext(connection) as captured:
        answer, signature = _post(world.operator_key, "AllocateCustomerCredit",
                                  {"ClientUin": world.other_customer.uin, "AddedCredit": 5})
    assert answer["Error"]["Code"] == "UnauthorizedOperation.UinNoAuth"
    # The second transaction stores the refusal the first try raised: it does not look the
    # customer up again.
    sent = _statements(captured)
    second = sent[sent.index("ROLLBACK") + 1:]
    assert second == ["BEGIN", "EXECUTE", "EXECUTE", "COMMIT"]
    assert json.loads(SignedRequest.objects.get(signature=signature).answer)["Response"] == answer
    assert counted == ["AllocateCustomerCredit"]


def test_an_allocation_crossing_zero_records_its_event_in_the_second_transaction(world):
    customer = world.customers[0]
    usage_charge_record(reseller=world.reseller, customer_uin=customer.uin, amount="15.00", incurred_at=timezone.now(),
                        external_id="bill-1")
    assert list(StatusEvent.objects.filter(customer=customer).values_list("kind", flat=True)) == ["overdue"]
    answer, _ = _post(world.operator_key, "AllocateCustomerCredit", {"ClientUin": customer.uin, "AddedCredit": 20})
    assert answer["TotalCredit"] == 20 and answer["RemainingCredit"] == 5
    assert list(StatusEvent.objects.filter(customer=customer).order_by("id").values_list("kind", "cause")) == [
        ("overdue", "usage"), ("resumed", "allocation")]
    balance = CustomerBalance.objects.get(pk=customer.pk)
    assert (balance.credit, balance.used) == (Decimal("20.00"), Decimal("15.00"))


def test_a_used_client_token_answers_with_its_first_record(world):
    customer = world.customers[0]
    params = {"ClientUin": customer.uin, "AddedCredit": 7, "ClientToken": "order-1"}
    first, _ = _post(world.operator_key, "AllocateCustomerCredit", params, timestamp=int(time.time()) - 5)
    again, _ = _post(world.operator_key, "AllocateCustomerCredit", params)  # another signature, the same token
    assert again["TotalCredit"] == first["TotalCredit"] == 7 and again["RequestId"] != first["RequestId"]
    assert AllocationRecord.objects.count() == 1 and _pool(world) == Decimal("9993.00")


@pytest.mark.parametrize("case", ["refused", "crossing zero"])
def test_identical_writes_racing_through_the_second_transaction_answer_alike(world, sdk, endpoint, case):
    customer = world.customers[0]
    if case == "crossing zero":
        usage_charge_record(reseller=world.reseller, customer_uin=customer.uin, amount="15.00",
                            incurred_at=timezone.now(), external_id="bill-1")
    amount = 20000 if case == "refused" else 20
    req = signed_by_sdk(sdk, "AllocateCustomerCredit", {"ClientUin": customer.uin, "AddedCredit": amount})
    data = req.data.encode()

    def post(_):
        return requests.post(f"http://{endpoint}/", data=data, headers=req.header, timeout=60).json()["Response"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(post, range(6)))
    assert all(answer == answers[0] for answer in answers)
    if case == "refused":
        assert answers[0]["Error"]["Code"] == "FailedOperation.BalanceInsufficient"
        assert AllocationRecord.objects.count() == 0 and _pool(world) == Decimal("10000.00")
    else:
        assert answers[0]["RemainingCredit"] == 5
        assert AllocationRecord.objects.count() == 1 and _pool(world) == Decimal("9980.00")
        assert StatusEvent.objects.filter(customer=customer, kind="resumed").count() == 1


def test_one_statement_is_only_for_a_transaction_on_postgresql(world):
    with pytest.raises(ValueError, match="inside the caller's transaction"):
        credit_allocate(reseller=world.reseller, customer=world.customers[0].pk, amount="1.00", one_statement=True)


def test_one_statement_raises_what_it_does_not_finish_and_changes_nothing(world):
    from django.db import transaction

    customer = world.customers[0]
    with pytest.raises(AllocationUnfinished), transaction.atomic():
        credit_allocate(reseller=world.reseller, customer=customer.pk, amount="20000.00", one_statement=True)
    assert _pool(world) == Decimal("10000.00") and AllocationRecord.objects.count() == 0
    with transaction.atomic():
        record = credit_allocate(reseller=world.reseller, customer=customer.pk, amount="3.00", one_statement=True)
    assert record.pk == AllocationRecord.objects.get().pk and record.pool_remaining_after == Decimal("9997.00")
