"""The walls (issue 12): every portal URL as its owner, as another customer, as a reseller member and
anonymous; every console URL, the admin and the console's sign-in as a customer; the portal's
sign-in as a reseller member."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from notifications.models import Message
from tests.factories import MemberFactory, ResellerFactory
from tests.notifications_inbox import customer_message
from tests.onboarding import PASSWORD, bound_customer
from tests.pages import body, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(reseller):
    customer, user = bound_customer(reseller, email="owner@client.example", name="Owner Client")
    return customer, user


@pytest.fixture
def stranger(db):
    """Another reseller's customer with its own login."""
    return bound_customer(ResellerFactory(name="Far Away"), email="stranger@client.example", name="Stranger Co")


def portal_urls(message_id: int) -> list[tuple[str, str]]:
    return [("get", "/portal/"), ("get", "/portal/messages/"), ("post", "/portal/messages/read-all/"),
            ("post", f"/portal/messages/{message_id}/read/")]


def test_owner_reaches_every_portal_page(owner):
    customer, user = owner
    message = customer_message(customer)
    client = client_for(user)
    for method, url in portal_urls(message.pk):
        response = getattr(client, method)(url)
        assert response.status_code in (200, 302), url
        if method == "post":
            assert response["Location"] == "/portal/messages/"
    assert Message.objects.get(pk=message.pk).read_at is not None


def test_another_customer_never_sees_or_touches_the_owners_messages(owner, stranger):
    customer, _ = owner
    message = customer_message(customer, title="Owner's secret alert")
    client = client_for(stranger[1])
    assert "Owner's secret alert" not in body(client.get("/portal/messages/"))
    assert "Owner Client" not in body(client.get("/portal/"))
    assert client.post(f"/portal/messages/{message.pk}/read/").status_code == 404
    client.post("/portal/messages/read-all/")
    assert Message.objects.get(pk=message.pk).read_at is None


def test_a_reseller_member_never_reaches_the_portal_as_a_customer(owner, reseller):
    customer, _ = owner
    message = customer_message(customer)
    client = client_for(MemberFactory(reseller=reseller).user)
    for method, url in portal_urls(message.pk):
        assert getattr(client, method)(url).status_code == 404, url
    assert Message.objects.get(pk=message.pk).read_at is None


def test_anonymous_is_sent_to_the_portal_sign_in(owner):
    message = customer_message(owner[0])
    for method, url in portal_urls(message.pk):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/?next="), url
    assert Message.objects.get(pk=message.pk).read_at is None


def console_urls(customer_uin: int) -> list[str]:
    """Every route outside the portal, the admin, the sign-in pages and the API (signed, not a session)."""
    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.append(route)

    walk(get_resolver().url_patterns)
    skip = ("admin/", "portal/", "login/", "logout/", "api/", "^api")
    urls = []
    for route in found:
        if route.startswith(skip) or route == "api":
            continue
        urls.append("/" + route.replace("<int:uin>", str(customer_uin)).replace("<int:invitation_id>", "1")
                    .replace("<int:message_id>", "1").replace("<int:pk>", "1"))
    return urls


def test_a_customer_never_reaches_a_console_page(owner):
    customer, user = owner
    client = client_for(user)
    urls = console_urls(customer.uin)
    assert "/customers/" in urls and "/" in urls and f"/customers/{customer.uin}/allocate/" in urls and len(urls) > 25
    for url in urls:
        # POST / is the signed API, which no session reaches.
        for method in ("get",) if url == "/" else ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code == 405:
                continue  # the method is refused before any page
            if url == "/i18n/setlang/":
                continue  # the language switch, shared by the console and the portal (tests/portal/test_language.py)
            if url == "/messages/bell/" and response.status_code == 286:
                assert response.content == b""  # the console bell's poll stops, and shows nothing
                continue
            assert response.status_code == 302 and response["Location"] == "/portal/", (method, url)
    assert customer.credit == 0


def test_a_customer_never_reaches_the_admin(owner):
    client = client_for(owner[1])
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.get("/admin/customers/customer/")
    assert response.status_code == 302
    response = Client().post("/admin/login/", {"username": "owner@client.example", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in Client().session


def test_console_sign_in_refuses_a_customer_and_portal_sign_in_refuses_a_member(owner, reseller):
    response = Client().post("/login/", {"username": "owner@client.example", "password": PASSWORD})
    assert response.status_code == 200 and "/portal/login/" in body(response)
    MemberFactory(reseller=reseller, user__username="staff")
    client = Client()
    response = client.post("/portal/login/", {"username": "staff", "password": "secret-password"})
    assert response.status_code == 200 and "customer portal" in body(response)
    assert "_auth_user_id" not in client.session


def test_portal_sign_in_takes_the_customer_to_its_credit(owner):
    client = Client()
    response = client.post("/portal/login/", {"username": "owner@client.example", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert "Owner Client" in body(client.get("/portal/"))
    # Signed in, the sign-in page sends it home.
    assert client.get("/portal/login/")["Location"] == "/portal/"


def test_portal_sign_in_is_throttled_like_the_consoles(owner, settings):
    settings.SIGNIN_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(2):
        client.post("/portal/login/", {"username": "owner@client.example", "password": "wrong"})
    response = client.post("/portal/login/", {"username": "owner@client.example", "password": PASSWORD})
    assert response.status_code == 429 and "_auth_user_id" not in client.session
