import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.db.models import F
from django.test import Client, RequestFactory, override_settings

from customers.models import Member
from partnercenter.signin import client_ip
from tests.factories import MemberFactory, UserFactory
from tests.pages import body

pytestmark = pytest.mark.django_db
LOCKED = "Too many failed sign-ins. Try again in {} minutes."
WRONG = "Please enter a correct username and password"
# Redis is not listening here: the sign-in must not need it.
NO_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}}


@pytest.fixture
def member(reseller):
    return MemberFactory(reseller=reseller, user__username="alice", role=Member.Role.OPERATOR)


@pytest.fixture
def colleague(reseller):
    return MemberFactory(reseller=reseller, user__username="bob", role=Member.Role.OPERATOR)


def sign_in(client, username, password, address="10.0.0.1", path="/login/", **headers):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def wait(**elapsed) -> None:
    """Move every recorded failure back in time, as if that long had passed since."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(**elapsed))


def test_sign_in_and_out(member):
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200 and "<title>Sign in" in body(page)
    response = sign_in(client, member.user.username, "secret-password")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_five_failures_lock_the_username_from_every_address(member):
    """Issue 8, defect 11: the count is per username, not per (username, address)."""
    for attempt in range(4):
        response = sign_in(Client(), "alice", "wrong", address=f"10.0.0.{attempt + 1}")
        assert response.status_code == 200 and WRONG in body(response)
    fifth = sign_in(Client(), "alice", "wrong", address="10.0.0.5")
    assert fifth.status_code == 429 and LOCKED.format(15) in body(fifth)
    # Even the right password, from yet another address, is refused while locked.
    client = Client()
    locked = sign_in(client, "alice", "secret-password", address="10.0.0.6")
    assert locked.status_code == 429 and LOCKED.format(15) in body(locked)
    assert not signed_in(client)


def test_the_lockout_page_says_when_to_try_again(member):
    for _ in range(5):
        locked = sign_in(Client(), "alice", "wrong")
    html = body(locked)
    assert locked.status_code == 429 and "<title>Sign-in locked" in html
    assert "Sign-in opens again at " in html and " UTC." in html
    assert 14 * 60 < int(locked["Retry-After"]) <= 15 * 60
    assert 'href="/login/"' in html


def test_a_locked_username_does_not_lock_the_others_at_that_address(member, colleague):
    for _ in range(5):
        sign_in(Client(), "alice", "wrong", address="10.0.0.1")
    assert sign_in(Client(), "alice", "secret-password", address="10.0.0.1").status_code == 429
    client = Client()
    assert sign_in(client, "bob", "secret-password", address="10.0.0.1").status_code == 302
    assert signed_in(client)


@override_settings(SIGNIN_IP_FAILURE_LIMIT=8)
def test_the_address_limit_locks_every_username_from_it(member, colleague):
    """Guessing at many usernames from one address: the address is locked at its own limit."""
    for attempt in range(7):
        assert sign_in(Client(), f"nobody{attempt}", "wrong", address="10.0.0.1").status_code == 200
    assert sign_in(Client(), "nobody7", "wrong", address="10.0.0.1").status_code == 429
    assert sign_in(Client(), "bob", "secret-password", address="10.0.0.1").status_code == 429
    assert sign_in(Client(), "bob", "secret-password", address="10.0.0.2").status_code == 302


def test_the_address_limit_is_higher_than_the_username_limit(settings):
    assert settings.SIGNIN_IP_FAILURE_LIMIT > settings.SIGNIN_FAILURE_LIMIT


def test_a_success_clears_earlier_failures(member):
    for _ in range(4):
        sign_in(Client(), "alice", "wrong")
    assert sign_in(Client(), "alice", "secret-password").status_code == 302
    for _ in range(4):
        assert "Too many" not in body(sign_in(Client(), "alice", "wrong"))


def test_the_lock_message_counts_down_and_waiting_is_not_a_failure(member):
    for _ in range(5):
        sign_in(Client(), "alice", "wrong")
    wait(minutes=14, seconds=1)
    refused = sign_in(Client(), "alice", "secret-password")
    assert "Try again in 1 minute." in body(refused)
    # Attempts refused during the lock are not counted, so they neither extend nor grow it.
    assert sign_in(Client(), "alice", "wrong").status_code == 429
    wait(minutes=1)
    assert sign_in(Client(), "alice", "secret-password").status_code == 302


def test_each_further_failure_locks_again_for_twice_as_long(member):
    for _ in range(5):
        sign_in(Client(), "alice", "wrong")
    for minutes in (15, 30, 60, 120):
        wait(minutes=minutes, seconds=1)
        again = sign_in(Client(), "alice", "wrong")
        assert again.status_code == 429 and LOCKED.format(minutes * 2) in body(again)


@override_settings(SIGNIN_LOCKOUT_MAX_HOURS=1)
def test_the_lock_is_capped_and_then_forgotten(member):
    for _ in range(5):
        sign_in(Client(), "alice", "wrong")
    for minutes in (15, 30):
        wait(minutes=minutes, seconds=1)
        sign_in(Client(), "alice", "wrong")
    assert LOCKED.format(60) in body(sign_in(Client(), "alice", "secret-password"))
    wait(hours=1, seconds=1)
    assert sign_in(Client(), "alice", "secret-password").status_code == 302


@override_settings(SIGNIN_IP_FAILURE_LIMIT=8)
def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(member, colleague):
    """With TRUSTED_PROXY_COUNT=0 (the default) X-Forwarded-For is whatever the client wrote: the
    address that counts is the connection's, so rotating the header gains nothing."""
    for attempt in range(8):
        sign_in(Client(), f"nobody{attempt}", "wrong", address="10.9.9.9", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")
    assert sign_in(Client(), "bob", "secret-password", address="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


@override_settings(SIGNIN_IP_FAILURE_LIMIT=8, TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_each_client_counts_alone(member, colleague):
    proxy = "10.9.9.9"
    for attempt in range(8):
        sign_in(Client(), f"nobody{attempt}", "wrong", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    # Another client behind the same proxy is not locked out with the guesser...
    assert sign_in(Client(), "bob", "secret-password", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302
    # ...and the guesser cannot pass for someone else: the proxy appends the address it saw.
    spoofed = sign_in(Client(), "bob", "secret-password", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5")
    assert spoofed.status_code == 429


@pytest.mark.parametrize(("count", "forwarded", "expected"), [
    (0, "203.0.113.5", "10.9.9.9"),
    (1, "", "10.9.9.9"),
    (1, "203.0.113.5", "203.0.113.5"),
    (1, "198.51.100.7, 203.0.113.5", "203.0.113.5"),
    (2, "198.51.100.7, 203.0.113.5, 10.1.1.1", "203.0.113.5"),
    (2, "203.0.113.5", "10.9.9.9"),
    (1, "not-an-address", "10.9.9.9"),
    (1, "fe80::1%eth0", "10.9.9.9"),
    (1, "2001:db8::1", "2001:db8::1"),
])
def test_client_ip(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().post("/login/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_admin_sign_in_is_throttled_too(reseller):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    for _ in range(4):
        assert sign_in(Client(), "root", "wrong", path="/admin/login/").status_code == 200
    locked = sign_in(Client(), "root", "wrong", path="/admin/login/")
    assert locked.status_code == 429 and LOCKED.format(15) in body(locked) and 'href="/admin/login/"' in body(locked)
    # One count for the username, whichever door is used.
    assert sign_in(Client(), "root", "secret-password").status_code == 429


@override_settings(CACHES=NO_REDIS)
def test_sign_in_works_while_redis_is_down(member):
    """Issue 8, defect 8: the throttle is counted in the database, not the cache."""
    wrong = sign_in(Client(), "alice", "wrong")
    assert wrong.status_code == 200 and WRONG in body(wrong)
    client = Client()
    assert sign_in(client, "alice", "secret-password").status_code == 302
    assert client.get("/").status_code == 200
    for _ in range(5):
        locked = sign_in(Client(), "alice", "wrong")
    assert locked.status_code == 429


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(SIGNIN_IP_FAILURE_LIMIT=8)
def test_an_administrator_lifts_locks_with_the_commands_readme_names(member, colleague):
    for _ in range(5):
        sign_in(Client(), "alice", "wrong", address="10.0.0.1")
    for attempt in range(8):
        sign_in(Client(), f"nobody{attempt}", "wrong", address="10.0.0.9")
    assert sign_in(Client(), "alice", "secret-password", address="10.0.0.1").status_code == 429
    assert sign_in(Client(), "bob", "secret-password", address="10.0.0.9").status_code == 429
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    env = {**os.environ, "PARTNERCENTER_TESTING": "1",
           "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    for command in (["axes_reset_username", "alice"], ["axes_reset_ip", "10.0.0.9"]):
        result = subprocess.run([sys.executable, "manage.py", *command], env=env,
                                cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert sign_in(Client(), "alice", "secret-password", address="10.0.0.1").status_code == 302
    assert sign_in(Client(), "bob", "secret-password", address="10.0.0.9").status_code == 302


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
