"""The verifier reproduces the SDK's own TC3-HMAC-SHA256 computation (no server needed)."""

import json

import pytest
from tencentcloud.common import credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.intlpartnersmgt.v20220928 import intlpartnersmgt_client

from api import signing
from api.envelope import ApiError

SECRET_ID = "AKIDexampleexampleexampleexample1234"
SECRET_KEY = "exampleSecretKeyexampleSecretKey"


def _sdk_request(params: dict, endpoint: str = "127.0.0.1:8000") -> RequestInternal:
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint))
    client = intlpartnersmgt_client.IntlpartnersmgtClient(credential.Credential(SECRET_ID, SECRET_KEY), "", profile)
    req = RequestInternal(endpoint, "POST", "/", header={})
    client._build_req_inter("QueryCustomersCredit", params, req)
    return req


def _verify(req: RequestInternal, *, secret_key: str = SECRET_KEY, body: bytes | None = None) -> bool:
    auth = signing.parse_authorization(req.header["Authorization"])
    headers = {name: {k.lower(): v for k, v in req.header.items()}.get(name, "") for name in auth.signed_headers}
    return signing.signature_matches(
        auth=auth, secret_key=secret_key, method="POST", headers=headers,
        body=req.data.encode() if body is None else body, timestamp=req.header["X-TC-Timestamp"],
    )


def test_sdk_signature_verifies():
    req = _sdk_request({"Filter": "Ünïcode name", "Page": 1, "PageSize": 100})
    auth = signing.parse_authorization(req.header["Authorization"])
    assert auth.secret_id == SECRET_ID and auth.signed_headers == ("content-type", "host")
    assert _verify(req)


def test_any_change_breaks_it():
    req = _sdk_request({"Page": 1})
    assert not _verify(req, secret_key=SECRET_KEY + "x")
    assert not _verify(req, body=json.dumps({"Page": 2}).encode())
    req.header["Host"] = "evil.example:8000"
    assert not _verify(req)


def test_our_signer_matches_the_sdk():
    req = _sdk_request({"Page": 3})
    ours = signing.authorization_header(
        secret_id=SECRET_ID, secret_key=SECRET_KEY, body=req.data.encode(), headers=req.header,
        timestamp=int(req.header["X-TC-Timestamp"]),
    )
    assert ours == req.header["Authorization"]


def test_tencent_documented_lower_case_header_values_verify():
    body = b"{}"
    headers = {"content-type": "application/json", "host": "127.0.0.1:8000", "x-tc-action": "QueryPartnerCredit"}
    lowered = {name: value.lower() for name, value in headers.items()}
    header = signing.authorization_header(
        secret_id=SECRET_ID, secret_key=SECRET_KEY, body=body, headers=lowered, timestamp=1_800_000_000,
        signed_headers=("content-type", "host", "x-tc-action"),
    )
    auth = signing.parse_authorization(header)
    assert signing.signature_matches(auth=auth, secret_key=SECRET_KEY, method="POST", headers=headers, body=body,
                                     timestamp="1800000000")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "TC3-HMAC-SHA256",
        "TC3-HMAC-SHA256 Credential=a/2026-01-01/intlpartnersmgt/tc3_request, SignedHeaders=content-type;host",
        "TC3-HMAC-SHA256 Credential=a/2026-1-1/intlpartnersmgt/tc3_request, SignedHeaders=content-type;host, Signature=" + "0" * 64,
        "TC3-HMAC-SHA256 Credential=a/2026-01-01/intlpartnersmgt/v1, SignedHeaders=content-type;host, Signature=" + "0" * 64,
        "TC3-HMAC-SHA256 Credential=a/2026-01-01/intlpartnersmgt/tc3_request, SignedHeaders=host;content-type, Signature=" + "0" * 64,
        "TC3-HMAC-SHA256 Credential=a/2026-01-01/intlpartnersmgt/tc3_request, SignedHeaders=Content-Type;host, Signature=" + "0" * 64,
        "TC3-HMAC-SHA256 Credential=a/2026-01-01/intlpartnersmgt/tc3_request, SignedHeaders=content-type;host, Signature=" + "0" * 63,
        "TC3-HMAC-SHA256 Credential=a/2026-01-01/intlpartnersmgt/tc3_request, Credential=b, SignedHeaders=content-type;host, Signature=" + "0" * 64,
    ],
)
def test_malformed_headers_are_refused(header):
    with pytest.raises(ApiError) as info:
        signing.parse_authorization(header)
    assert info.value.code == "AuthFailure.InvalidAuthorization"
