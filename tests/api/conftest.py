"""API tests drive the official Tencent Cloud SDK against pytest-django's live server."""

import json
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
import requests
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.intlpartnersmgt.v20220928 import intlpartnersmgt_client, models

from api.services import api_key_create
from credits.services import pool_grant
from customers.models import Member
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory

__all__ = ["models", "TencentCloudSDKException"]


@dataclass
class Key:
    secret_id: str
    secret_key: str
    pk: int


@dataclass
class World:
    reseller: object
    operator: object
    viewer: object
    admin: object
    customers: list
    other_reseller: object
    other_customer: object
    operator_key: Key
    viewer_key: Key


def make_key(user) -> Key:
    key, secret = api_key_create(user=user, description="tests")
    return Key(key.secret_id, secret, key.pk)


@pytest.fixture(autouse=True)
def generous_rate_limits(settings):
    # Tests call faster than 5 requests/s; the rate-limit test sets its own limit.
    settings.API_RATE_LIMIT_CREDIT = 10_000
    settings.API_RATE_LIMIT_DEFAULT = 10_000


@pytest.fixture
def world(transactional_db) -> World:
    reseller = ResellerFactory(name="Acme Reseller")
    pool_grant(reseller=reseller, amount="10000.00")
    operator = MemberFactory(reseller=reseller, role=Member.Role.OPERATOR)
    viewer = MemberFactory(reseller=reseller, role=Member.Role.VIEWER)
    admin = MemberFactory(reseller=reseller, role=Member.Role.ADMIN)
    customers = [
        CustomerFactory(reseller=reseller, name="Alpha Ltd", remark="gold", email="ops@alpha.example"),
        CustomerFactory(reseller=reseller, name="Beta GmbH", remark="", email="it@beta.example"),
        CustomerFactory(reseller=reseller, name="Gamma Inc", remark="gold", email="cfo@gamma.example"),
    ]
    other_reseller = ResellerFactory(name="Other Reseller")
    other_customer = CustomerFactory(reseller=other_reseller, name="Not yours")
    return World(
        reseller=reseller,
        operator=operator,
        viewer=viewer,
        admin=admin,
        customers=customers,
        other_reseller=other_reseller,
        other_customer=other_customer,
        operator_key=make_key(operator.user),
        viewer_key=make_key(viewer.user),
    )


@pytest.fixture
def endpoint(live_server) -> str:
    return urlparse(live_server.url).netloc


def sdk_client(endpoint: str, secret_id: str, secret_key: str) -> intlpartnersmgt_client.IntlpartnersmgtClient:
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint, reqTimeout=30))
    return intlpartnersmgt_client.IntlpartnersmgtClient(credential.Credential(secret_id, secret_key), "", profile)


@pytest.fixture
def sdk(world, endpoint):
    return sdk_client(endpoint, world.operator_key.secret_id, world.operator_key.secret_key)


@pytest.fixture
def viewer_sdk(world, endpoint):
    return sdk_client(endpoint, world.viewer_key.secret_id, world.viewer_key.secret_key)


def error_code(call, *args) -> str:
    """Run an SDK call that must fail and return the error code the SDK raised."""
    with pytest.raises(TencentCloudSDKException) as info:
        call(*args)
    assert info.value.requestId, "every error carries a RequestId"
    return info.value.code


def signed_by_sdk(client, action: str, params: dict) -> RequestInternal:
    """The request exactly as the SDK would send it (signed), so a test can tamper with it."""
    req = RequestInternal(client._get_endpoint(), "POST", "/", header={})
    client._build_req_inter(action, params, req)
    return req


def send(endpoint: str, req: RequestInternal, path: str = "/") -> dict:
    data = req.data.encode() if isinstance(req.data, str) else req.data
    response = requests.post(f"http://{endpoint}{path}", data=data, headers=req.header, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.content)["Response"]


def sign_later(monkeypatch, seconds: int) -> None:
    """Make the SDK sign its next calls `seconds` later, as a client retrying later does: the same
    parameters then carry a new signature (within one second they carry the same one)."""

    class Later:
        @staticmethod
        def time():
            return time.time() + seconds

    monkeypatch.setattr("tencentcloud.common.abstract_client.time", Later)
