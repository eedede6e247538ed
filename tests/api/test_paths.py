"""Whatever a client sends to the API's addresses, it gets the Tencent envelope: never an HTML page,
never a 500."""

import json

import pytest
import requests

from credits.models import AllocationRecord

from .conftest import send, signed_by_sdk


def _envelope(response) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    payload = json.loads(response.content)["Response"]
    assert payload["RequestId"]
    return payload


def test_post_to_api_without_the_slash_is_the_endpoint(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "AllocateCustomerCredit", {"ClientUin": world.customers[0].uin, "AddedCredit": 5})
    response = requests.post(f"http://{endpoint}/api", data=req.data.encode(), headers=req.header, timeout=30,
                             allow_redirects=False)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert response.json()["Response"]["TotalCredit"] == 5
    assert AllocationRecord.objects.count() == 1


@pytest.mark.parametrize("path", ["/api/", "/api"])
@pytest.mark.parametrize("method", ["get", "put", "delete", "patch", "options"])
def test_other_methods_on_the_endpoint_get_the_envelope(client, path, method):
    response = getattr(client, method)(path)
    payload = _envelope(response)
    assert payload["Error"]["Code"] == "UnsupportedProtocol"
    assert method.upper() in payload["Error"]["Message"]
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", ["/api/foo", "/api/v3/", "/api//", "/api/<script>"])
def test_unknown_addresses_under_the_api_get_the_envelope(client, path, method):
    response = client.generic(method.upper(), path, data="{}", content_type="application/json")
    assert _envelope(response)["Error"]["Code"] == "UnsupportedOperation"


def test_a_host_the_server_does_not_serve_gets_the_envelope(client):
    response = client.post("/", data="{}", content_type="application/json", HTTP_HOST="evil.example")
    assert _envelope(response)["Error"]["Code"] == "InvalidParameter"
    response = client.post("/api/", data="{}", content_type="application/json", HTTP_HOST="evil.example")
    assert _envelope(response)["Error"]["Code"] == "InvalidParameter"


def test_console_pages_keep_their_own_error_pages(client):
    assert client.get("/").status_code == 302  # the Overview asks for a sign-in
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400


def test_the_sdk_still_posts_to_root_and_api(world, sdk, endpoint):
    req = signed_by_sdk(sdk, "QueryPartnerCredit", {})
    for path in ["/", "/api/", "/api"]:
        assert send(endpoint, req, path)["TotalCredit"] == 10000
