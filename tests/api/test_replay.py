"""A signed write acts at most once (DESIGN §5): the same signature gets the first answer again, and a
signature seen with one action never acts as a write under another."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from api import tasks
from api.actions import ACTIONS
from api.models import SignedRequest
from api.services import signature_answer_record, signature_claim, signed_requests_expire
from core.errors import DomainError
from credits.models import AllocationRecord, CreditPool
from credits.services import pool_grant
from partnercenter.schedule import BEAT_SCHEDULE

from .conftest import models, send, signed_by_sdk


def _allocation(world, amount=10, **extra):
    return {"ClientUin": world.customers[0].uin, "AddedCredit": amount, **extra}


def _remaining(world) -> Decimal:
    return CreditPool.objects.get(reseller=world.reseller).remaining


def _fixed_sdk_clock(monkeypatch, at: float) -> None:
    class Fixed:
        @staticmethod
        def time():
            return at

    monkeypatch.setattr("tencentcloud.common.abstract_client.time", Fixed)


def test_a_signed_allocation_sent_three_times_allocates_once(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "AllocateCustomerCredit", _allocation(world))

    answers = [send(endpoint, req, path) for path in ["/", "/api/", "/"]]

    assert answers[0]["TotalCredit"] == 10 and "Error" not in answers[0]
    assert answers[1] == answers[0] and answers[2] == answers[0]  # the first answer, RequestId included
    assert AllocationRecord.objects.count() == 1
    assert _remaining(world) == Decimal("9990.00")


def test_sdk_calls_with_the_same_parameters_in_one_second_are_one_request(world, sdk, monkeypatch):
    _fixed_sdk_clock(monkeypatch, time.time())
    first = sdk.call_json("AllocateCustomerCredit", _allocation(world))["Response"]
    again = sdk.call_json("AllocateCustomerCredit", _allocation(world))["Response"]

    assert again == first
    assert AllocationRecord.objects.count() == 1
    # A ClientToken of its own makes a deliberate second allocation a new request.
    other = sdk.call_json("AllocateCustomerCredit", _allocation(world, ClientToken="second"))["Response"]
    assert other["TotalCredit"] == 20
    assert AllocationRecord.objects.count() == 2


def test_a_refused_write_replayed_after_the_pool_grows_stays_refused(world, sdk, endpoint):
    # The client saw the refusal and may have retried with a fresh signature already: the captured
    # original must not allocate a second time once it would succeed.
    req = signed_by_sdk(sdk, "AllocateCustomerCredit", _allocation(world, 15000))
    refused = send(endpoint, req)
    assert refused["Error"]["Code"] == "FailedOperation.BalanceInsufficient"

    pool_grant(reseller=world.reseller, amount="10000.00")

    assert send(endpoint, req) == refused
    assert not AllocationRecord.objects.exists()
    assert _remaining(world) == Decimal("20000.00")


def test_a_write_refused_before_it_ran_stays_refused_when_its_headers_are_fixed(world, sdk, endpoint):
    # X-TC-Version is not signed either; the answer belongs to the signature, not to the headers.
    req = signed_by_sdk(sdk, "AllocateCustomerCredit", _allocation(world))
    req.header["X-TC-Version"] = "2017-03-12"
    refused = send(endpoint, req)
    assert refused["Error"]["Code"] == "NoSuchVersion"

    req.header["X-TC-Version"] = "2022-09-28"

    assert send(endpoint, req) == refused
    assert not AllocationRecord.objects.exists()


def test_a_captured_read_is_never_resent_as_a_write(world, sdk, endpoint):
    # A body the client sent to a read (refused there) that would be a valid allocation.
    req = signed_by_sdk(sdk, "QueryPartnerCredit", _allocation(world))
    assert send(endpoint, req)["Error"]["Code"] == "UnknownParameter"

    req.header["X-TC-Action"] = "AllocateCustomerCredit"
    refused = send(endpoint, req)

    assert refused["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert "QueryPartnerCredit" in refused["Error"]["Message"]
    assert not AllocationRecord.objects.exists()


def test_a_write_is_never_resent_as_another_action(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "ModifyClientRemark", {"ClientUin": str(world.customers[0].uin), "Remark": "vip"})
    assert send(endpoint, req)["ClientRemark"] == "vip"
    for action in ["QueryPartnerCredit", "AllocateCustomerCredit", "NoSuchAction"]:
        req.header["X-TC-Action"] = action
        assert send(endpoint, req)["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_reads_with_the_same_parameters_in_one_second_all_answer(world, sdk, monkeypatch):
    # The SDK signs neither the action nor a nonce: these three sign alike, and all are honest.
    _fixed_sdk_clock(monkeypatch, time.time())
    assert sdk.QueryPartnerCredit(models.QueryPartnerCreditRequest()).TotalCredit == 10000
    assert len(sdk.QueryDirectCustomersCredit(models.QueryDirectCustomersCreditRequest()).Data) == 3
    assert sdk.QueryPartnerCredit(models.QueryPartnerCreditRequest()).TotalCredit == 10000
    assert SignedRequest.objects.count() == 1


def test_no_read_request_is_a_valid_request_of_a_write():
    # A request the server never saw can still be re-sent under another action. It cannot act as
    # a write if every write requires a parameter that no read accepts (a read's valid request
    # would then be a write's UnknownParameter or MissingParameter).
    reads = [action for action in ACTIONS.values() if not action.writes]
    for write in (action for action in ACTIONS.values() if action.writes):
        required = {param.name for param in write.params if param.required}
        for read in reads:
            assert required - {param.name for param in read.params}, f"a {read.name} request could be a {write.name}"


@pytest.mark.postgres
def test_identical_writes_racing_act_once(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "AllocateCustomerCredit", _allocation(world))
    data = req.data.encode()
    barrier = threading.Barrier(8)

    def post(_):
        barrier.wait()
        return requests.post(f"http://{endpoint}/", data=data, headers=req.header, timeout=60).json()["Response"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(8)))

    assert all(answer == answers[0] for answer in answers) and answers[0]["TotalCredit"] == 10
    assert AllocationRecord.objects.count() == 1
    assert _remaining(world) == Decimal("9990.00")


@pytest.mark.postgres
def test_a_twin_arriving_mid_write_waits_for_it_and_gets_its_answer(world, sdk, endpoint, monkeypatch):
    action = ACTIONS["AllocateCustomerCredit"]
    inside, release = threading.Event(), threading.Event()

    def slow(ctx, params):
        answer = action.handler(ctx, params)
        inside.set()
        release.wait(30)
        return answer

    monkeypatch.setitem(ACTIONS, action.name, action.__class__(**{**action.__dict__, "handler": slow}))
    req = signed_by_sdk(sdk, action.name, _allocation(world))
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(send, endpoint, req)
        assert inside.wait(30)
        twin = pool.submit(send, endpoint, req)
        time.sleep(1)
        assert not twin.done(), "the twin must wait for the first write's transaction"
        release.set()
        assert twin.result(30) == first.result(30)
    assert AllocationRecord.objects.count() == 1


def test_signature_claim_refusals(db):
    at = timezone.now()
    assert signature_claim(signature="a" * 64, action="QueryPartnerCredit", writes=False, signed_at=at) is None
    # Reads share; a write on a read's signature is refused.
    assert signature_claim(signature="a" * 64, action="DescribeCustomerUin", writes=False, signed_at=at) is None
    with pytest.raises(DomainError) as info:
        signature_claim(signature="a" * 64, action="AllocateCustomerCredit", writes=True, signed_at=at)
    assert info.value.code == "AuthFailure.SignatureFailure"

    assert signature_claim(signature="b" * 64, action="AllocateCustomerCredit", writes=True, signed_at=at) is None
    signature_answer_record(signature="b" * 64, answer='{"Response": {"RequestId": "r1"}}')
    assert signature_claim(signature="b" * 64, action="AllocateCustomerCredit", writes=True, signed_at=at) == (
        '{"Response": {"RequestId": "r1"}}'
    )
    for action, writes in [("ModifyClientRemark", True), ("QueryPartnerCredit", False), ("", False)]:
        with pytest.raises(DomainError):
            signature_claim(signature="b" * 64, action=action, writes=writes, signed_at=at)
    assert SignedRequest.objects.count() == 2


def test_signatures_are_forgotten_after_the_window(db):
    now = timezone.now()
    for n, age in enumerate([timedelta(minutes=11), timedelta(minutes=9), timedelta(0)]):
        SignedRequest.objects.create(signature=f"{n}" * 64, action="QueryPartnerCredit", signed_at=now - age)

    assert signed_requests_expire(now=now) == 1

    assert sorted(SignedRequest.objects.values_list("signature", flat=True)) == ["1" * 64, "2" * 64]
    assert BEAT_SCHEDULE["api-signed-requests-expire"]["task"] == "api.tasks.signed_requests_expire"
    SignedRequest.objects.filter(signature="1" * 64).update(signed_at=now - timedelta(hours=1))
    assert tasks.signed_requests_expire() == 1
    assert list(SignedRequest.objects.values_list("signature", flat=True)) == ["2" * 64]

