import uuid

import pytest
from django.test import Client

from customers.models import Member
from tests.factories import MemberFactory

from .conftest import body

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(reseller):
    # A fresh username per run: the throttle lives in the real cache (Redis in CI), not the test DB.
    return MemberFactory(reseller=reseller, user__username=f"signin-{uuid.uuid4().hex[:12]}", role=Member.Role.OPERATOR)


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_sign_in_and_out(member):
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200 and "<title>Sign in" in body(page)
    response = sign_in(client, member.user.username, "secret-password")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_five_failures_lock_the_username_for_that_address(member):
    client = Client()
    username = member.user.username
    for attempt in range(4):
        response = sign_in(client, username, "wrong")
        assert "Please enter a correct username and password" in body(response)
    fifth = sign_in(client, username, "wrong")
    assert "Too many failed sign-ins. Try again in 15 minutes." in body(fifth)
    # Even the right password is refused while locked...
    locked = sign_in(client, username, "secret-password")
    assert locked.status_code == 200 and "Too many failed sign-ins. Try again in 15 minutes." in body(locked)
    assert "_auth_user_id" not in client.session
    # ...but only for that address.
    assert sign_in(Client(), username, "secret-password", address="10.0.0.2").status_code == 302


def test_a_success_clears_earlier_failures(member):
    client = Client()
    username = member.user.username
    for _ in range(4):
        sign_in(client, username, "wrong")
    assert sign_in(client, username, "secret-password").status_code == 302
    for _ in range(4):
        assert "Too many" not in body(sign_in(Client(), username, "wrong"))


def test_the_lock_message_counts_down(member, monkeypatch):
    import time

    client = Client()
    for _ in range(5):
        sign_in(client, member.user.username, "wrong")
    later = time.time() + 14 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert "Try again in 1 minute." in body(sign_in(client, member.user.username, "secret-password"))


def test_password_change(member):
    client = Client()
    client.force_login(member.user)
    page = client.get("/account/password/")
    assert "<title>Change password" in body(page) and '<label for="id_old_password">' in body(page)
    response = client.post("/account/password/", {
        "old_password": "secret-password", "new_password1": "a-much-longer-pass-9", "new_password2": "a-much-longer-pass-9",
    })
    assert response.status_code == 302 and response["Location"] == "/account/password/done/"
    member.user.refresh_from_db()
    assert member.user.check_password("a-much-longer-pass-9")
    assert client.get("/account/password/done/").status_code == 200  # still signed in
