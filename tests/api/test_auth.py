"""Authentication, envelope and limits: TC3-HMAC-SHA256 as the SDK signs it, and every refusal."""

import json
import time

import pytest
import requests

from api import ratelimit, signing
from api.actions import ACTIONS
from api.models import ApiKey
from api.services import api_key_delete
from credits.models import AllocationRecord
from tests.factories import MemberFactory

from .conftest import error_code, make_key, models, sdk_client, send, sign_later, signed_by_sdk


def _allocate_params(world, amount=10):
    return {"ClientUin": world.customers[0].uin, "AddedCredit": amount}


def test_sdk_request_is_accepted_on_root_and_api_paths(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "QueryPartnerCredit", {})
    for path in ["/", "/api/"]:
        response = send(endpoint, req, path)
        assert response["TotalCredit"] == 10000 and "Error" not in response


def test_tampered_body_is_refused(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "AllocateCustomerCredit", _allocate_params(world, 10))
    req.data = req.data.replace('"AddedCredit": 10', '"AddedCredit": 9000')
    assert send(endpoint, req)["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert not AllocationRecord.objects.exists()


def test_tampered_timestamp_is_refused(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "QueryPartnerCredit", {})
    req.header["X-TC-Timestamp"] = str(int(req.header["X-TC-Timestamp"]) - 10)
    assert send(endpoint, req)["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_tampered_signed_action_is_refused(world, endpoint):
    # The SDK signs only content-type and host; a sdk that also signs X-TC-Action gets it checked.
    body = json.dumps({"UinList": [world.customers[0].uin]}).encode()
    headers = {"Content-Type": "application/json", "Host": endpoint, "X-TC-Action": "QueryCreditByUinList",
               "X-TC-Version": "2022-09-28", "X-TC-Timestamp": str(int(time.time()))}
    headers["Authorization"] = signing.authorization_header(
        secret_id=world.operator_key.secret_id, secret_key=world.operator_key.secret_key, body=body,
        headers=headers, timestamp=int(headers["X-TC-Timestamp"]), signed_headers=("content-type", "host", "x-tc-action"),
    )
    ok = requests.post(f"http://{endpoint}/", data=body, headers=headers, timeout=30).json()["Response"]
    assert ok["Data"][0]["Uin"] == world.customers[0].uin
    headers["X-TC-Action"] = "DescribeCustomerInfo"
    tampered = requests.post(f"http://{endpoint}/", data=body, headers=headers, timeout=30).json()["Response"]
    assert tampered["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_action_swapped_on_an_sdk_request_still_meets_that_actions_checks(world, sdk, endpoint):
    # Swapped before the server saw it (the original intercepted): the write's own checks refuse it.
    req = signed_by_sdk(sdk, "QueryCreditAllocationHistory", {"Page": 1})
    req.header["X-TC-Action"] = "AllocateCustomerCredit"
    assert send(endpoint, req)["Error"]["Code"] == "UnknownParameter"
    # Swapped after the server saw it: the signature is spent on that action.
    req = signed_by_sdk(sdk, "QueryCreditAllocationHistory", {"Page": 2})
    assert send(endpoint, req)["Error"]["Code"] == "MissingParameter"
    req.header["X-TC-Action"] = "AllocateCustomerCredit"
    assert send(endpoint, req)["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert not AllocationRecord.objects.exists()


def test_wrong_secret_key_unknown_or_swapped_secret_id(world, endpoint):
    key = world.operator_key
    wrong_key = sdk_client(endpoint, key.secret_id, key.secret_key[:-1] + ("A" if key.secret_key[-1] != "A" else "B"))
    assert error_code(wrong_key.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "AuthFailure.SignatureFailure"
    unknown = sdk_client(endpoint, "AKID" + "x" * 32, key.secret_key)
    assert error_code(unknown.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "AuthFailure.SecretIdNotFound"
    swapped = sdk_client(endpoint, world.viewer_key.secret_id, key.secret_key)
    assert error_code(swapped.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_clock_skew_is_refused(world, sdk, monkeypatch, offset):
    # The server's clock stands still too: with both moving, a second between signing and the check
    # (a loaded machine) turned 301 s into 300 s, which is allowed.
    now = time.time()

    class ServerClock:
        @staticmethod
        def time():
            return now

    class SkewedClock:
        @staticmethod
        def time():
            return now + offset

    monkeypatch.setattr("api.endpoint.time", ServerClock)
    monkeypatch.setattr("tencentcloud.common.abstract_client.time", SkewedClock)
    assert error_code(sdk.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "AuthFailure.SignatureExpire"


def test_small_clock_skew_is_accepted(world, sdk, monkeypatch):
    class SkewedClock:
        @staticmethod
        def time():
            return time.time() - 240

    monkeypatch.setattr("tencentcloud.common.abstract_client.time", SkewedClock)
    assert sdk.QueryPartnerCredit(models.QueryPartnerCreditRequest()).TotalCredit == 10000


def test_disabled_and_deleted_keys_are_refused(world, sdk):
    ApiKey.objects.filter(pk=world.operator_key.pk).update(enabled=False)
    assert error_code(sdk.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "AuthFailure.SecretIdNotFound"
    ApiKey.objects.filter(pk=world.operator_key.pk).update(enabled=True)
    assert sdk.QueryPartnerCredit(models.QueryPartnerCreditRequest()).TotalCredit == 10000
    api_key_delete(key=ApiKey.objects.get(pk=world.operator_key.pk), actor=world.operator.user)
    assert error_code(sdk.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "AuthFailure.SecretIdNotFound"


def test_inactive_user_key_is_refused(world, sdk):
    user = world.operator.user
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert error_code(sdk.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "AuthFailure.SecretIdNotFound"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "HmacSHA256 Credential=x",
        "TC3-HMAC-SHA256 Credential=AKIDabc/2026-01-01/intlpartnersmgt/tc3_request, Signature=" + "a" * 64,
        "TC3-HMAC-SHA256 Credential=AKIDabc/2026-01-01/cvm/tc3_request, SignedHeaders=content-type;host, Signature=" + "a" * 64,
        "TC3-HMAC-SHA256 Credential=AKIDabc/2026-01-01/intlpartnersmgt/tc3_request, SignedHeaders=host, Signature=" + "a" * 64,
        "TC3-HMAC-SHA256 Credential=AKIDabc/2026-01-01/intlpartnersmgt/tc3_request, SignedHeaders=content-type;host, Signature=xyz",
    ],
)
def test_malformed_authorization(world, sdk, endpoint, authorization):
    req = signed_by_sdk(sdk, "QueryPartnerCredit", {})
    if authorization is None:
        del req.header["Authorization"]
    else:
        req.header["Authorization"] = authorization
    assert send(endpoint, req)["Error"]["Code"] == "AuthFailure.InvalidAuthorization"


def test_unsigned_payload_is_refused(world, endpoint):
    from tencentcloud.common.profile.client_profile import ClientProfile

    sdk = sdk_client(endpoint, world.operator_key.secret_id, world.operator_key.secret_key)
    sdk.profile.unsignedPayload = True
    assert ClientProfile.unsignedPayload is False
    assert error_code(sdk.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "AuthFailure.InvalidAuthorization"


def test_wrong_version_and_unknown_action(world, sdk):
    sdk._apiVersion = "2017-03-12"
    assert error_code(sdk.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "NoSuchVersion"
    sdk._apiVersion = "2022-09-28"
    assert error_code(sdk.call_json, "DescribeInstances", {}) == "InvalidAction"


def test_body_that_is_not_an_object(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "QueryPartnerCredit", [1, 2])
    assert send(endpoint, req)["Error"]["Code"] == "InvalidParameter"


def test_rate_limit_per_reseller_per_action_across_its_keys(world, sdk, endpoint, settings, monkeypatch):
    settings.API_RATE_LIMIT_CREDIT = 2
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_900_000_000.5)
    request = models.QueryPartnerCreditRequest()
    sdk.QueryPartnerCredit(request)
    sdk.QueryPartnerCredit(request)
    assert error_code(sdk.QueryPartnerCredit, request) == "RequestLimitExceeded"
    # Another key of the same reseller shares the count: more keys are not more requests (DESIGN §5).
    admin_key = make_key(world.admin.user)
    admin_sdk = sdk_client(endpoint, admin_key.secret_id, admin_key.secret_key)
    assert error_code(admin_sdk.QueryPartnerCredit, request) == "RequestLimitExceeded"
    # Another action, and another reseller, have their own counts.
    sdk.QueryDirectCustomersCredit(models.QueryDirectCustomersCreditRequest())
    other = make_key(MemberFactory(reseller=world.other_reseller).user)
    assert sdk_client(endpoint, other.secret_id, other.secret_key).QueryPartnerCredit(request).TotalCredit == 0
    # The next second starts a new window.
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_900_000_001.5)
    assert admin_sdk.QueryPartnerCredit(request).TotalCredit == 10000


def test_other_actions_are_limited_per_reseller_too(world, sdk, viewer_sdk, settings, monkeypatch):
    settings.API_RATE_LIMIT_DEFAULT = 1
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_900_000_010.5)
    request = models.DescribeCustomerUinRequest()
    assert sdk.DescribeCustomerUin(request).Total == "3"
    assert error_code(viewer_sdk.DescribeCustomerUin, request) == "RequestLimitExceeded"


def test_rate_limited_allocation_changes_nothing(world, sdk, settings, monkeypatch):
    settings.API_RATE_LIMIT_CREDIT = 1
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_900_000_100.0)
    sdk.call_json("AllocateCustomerCredit", _allocate_params(world))
    sign_later(monkeypatch, 1)  # a new request, not a replay of the first
    assert error_code(sdk.call_json, "AllocateCustomerCredit", _allocate_params(world)) == "RequestLimitExceeded"
    assert AllocationRecord.objects.count() == 1


def test_internal_error_leaks_nothing(world, sdk, monkeypatch, caplog):
    action = ACTIONS["QueryPartnerCredit"]

    def broken(ctx, params):
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setitem(ACTIONS, "QueryPartnerCredit", action.__class__(**{**action.__dict__, "handler": broken}))
    with pytest.raises(Exception) as info:
        sdk.QueryPartnerCredit(models.QueryPartnerCreditRequest())
    assert info.value.code == "InternalError"
    assert "hunter2" not in info.value.message and "RuntimeError" not in info.value.message
    assert info.value.requestId in info.value.message
    assert "hunter2" in caplog.text


def test_last_used_time_is_recorded(world, sdk):
    assert ApiKey.objects.get(pk=world.operator_key.pk).last_used_at is None
    sdk.QueryPartnerCredit(models.QueryPartnerCreditRequest())
    assert ApiKey.objects.get(pk=world.operator_key.pk).last_used_at is not None
    assert ApiKey.objects.get(pk=world.viewer_key.pk).last_used_at is None


def test_key_of_a_user_no_longer_in_a_reseller_is_refused(world, sdk):
    world.operator.delete()
    assert error_code(sdk.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "UnauthorizedOperation"


def test_missing_action_or_version_header(world, sdk, endpoint):
    for header in ["X-TC-Action", "X-TC-Version"]:
        req = signed_by_sdk(sdk, "QueryPartnerCredit", {})
        del req.header[header]
        assert send(endpoint, req)["Error"]["Code"] == "MissingParameter"


def test_body_that_is_not_json(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "QueryPartnerCredit", {})
    req.data = "{not json"
    req.header["Authorization"] = signing.authorization_header(
        secret_id=world.operator_key.secret_id, secret_key=world.operator_key.secret_key, body=req.data.encode(),
        headers=req.header, timestamp=int(req.header["X-TC-Timestamp"]),
    )
    assert send(endpoint, req)["Error"]["Code"] == "InvalidParameter"




@pytest.mark.parametrize("raw", ["²", "1" * 5000, "-1", "17e8"])
def test_a_timestamp_that_is_no_unix_time_is_refused_not_an_internal_error(world, sdk, endpoint, raw):
    # "²" and full-width digits pass str.isdigit() but not int(); 5,000 digits pass both, slowly.
    req = signed_by_sdk(sdk, "QueryPartnerCredit", {})
    req.header["X-TC-Timestamp"] = raw
    assert send(endpoint, req)["Error"]["Code"] == "InvalidParameter"
