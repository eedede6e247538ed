"""No response with a signed-in user's data may be stored by a browser or a shared cache
(issue 8, defect 12): every console URL, its htmx fragments, CSV exports, the admin, the API."""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from api.services import api_key_create
from tests.factories import CustomerFactory, UserFactory
from tests.pages import HTMX, client_for

pytestmark = pytest.mark.django_db


def routes(patterns=None, prefix=""):
    """Every route of the site except the admin's (those are listed from its registry below)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route != "admin/":
                yield from routes(pattern.url_patterns, route)
        else:
            yield route


def concrete(route: str, values: dict) -> str:
    # path() converters (<int:uin>) and re_path() groups ((?P<path>.+), between ^ and $).
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: str(values[match.group(1)]), route.replace("^", "").replace("$", ""))
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]), route)


def assert_no_store(response, url):
    assert "no-store" in response.get("Cache-Control", ""), (url, response.status_code, response.get("Cache-Control"))


@pytest.fixture
def console_urls(operator):
    customer = CustomerFactory(reseller=operator.reseller)
    key, _ = api_key_create(user=operator.user)
    # message_id: no message exists; the 404 answer goes through the same middleware.
    values = {"uin": customer.uin, "pk": key.pk, "message_id": 999999, "path": "no-such-path",
              "invitation_id": 999999, "token": "no-such-token", "uidb64": "MQ"}
    urls = [concrete(route, values) for route in routes()]
    assert "/customers/" in urls and f"/customers/{customer.uin}/records/export.csv" in urls and "/" in urls
    return urls


def test_every_console_url_says_no_store(operator, console_urls):
    client = client_for(operator.user)
    # Sign-out last: its POST ends the session the other URLs need.
    for url in sorted(console_urls, key=lambda url: url == "/logout/"):
        for response in (client.get(url), client.get(url, **HTMX, HTTP_HX_TARGET="modal"), client.post(url, **HTMX)):
            assert_no_store(response, url)
    # A fragment and an export, answered in full.
    client = client_for(operator.user)
    customers = client.get("/customers/", **HTMX, HTTP_HX_TARGET="customer-table")
    assert customers.status_code == 200 and customers.content.lstrip().startswith(b'<div id="customer-table"')
    assert_no_store(customers, "/customers/ (fragment)")
    export = client.get("/records/export.csv")
    assert export.status_code == 200 and export.streaming
    assert_no_store(export, "/records/export.csv")


def test_every_portal_url_says_no_store_to_its_customer(reseller, console_urls):
    from tests.onboarding import bound_customer

    _, user = bound_customer(reseller)
    client = client_for(user)
    portal_urls = [url for url in console_urls if url.startswith("/portal/") and "logout" not in url]
    assert "/portal/" in portal_urls and "/portal/usage/export.csv" in portal_urls
    for url in portal_urls:
        assert_no_store(client.get(url), url)


def test_signed_out_answers_say_no_store_too(console_urls):
    client = Client()
    for url in console_urls:
        assert_no_store(client.get(url), url)
    assert_no_store(client.post("/", b"{}", content_type="application/json"), "/ (API)")


def test_every_admin_page_says_no_store(operator):
    client = client_for(UserFactory(is_staff=True, is_superuser=True))
    customer = CustomerFactory(reseller=operator.reseller)
    urls = ["/admin/", reverse("admin:customers_customer_change", args=[customer.pk])]
    urls += [reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_store(response, url)


def test_static_files_keep_their_caching(client):
    response = client.get("/static/css/console.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
