"""partnercenter.sessions: Django's database sessions, read with a prepared statement. A live
session loads as Django's store loads it; an expired or unknown one is no session, its key dropped."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partnercenter.sessions import SessionStore
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _saved(data: dict) -> str:
    store = SessionStore()
    store.update(data)
    store.save()
    return store.session_key


def test_a_live_session_loads_as_djangos_store_loads_it():
    key = _saved({"answer": 42, "name": "Zoë"})
    with CaptureQueriesContext(connection) as queries:
        mine = SessionStore(key).load()
    assert mine == DjangoStore(key).load() == {"answer": 42, "name": "Zoë"}
    assert len(queries) == 1
    assert "django_session" in queries[0]["sql"]


def test_an_expired_session_is_no_session_and_its_key_is_dropped():
    key = _saved({"answer": 42})
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None
    assert DjangoStore(key).load() == {}


def test_an_unknown_key_is_no_session():
    store = SessionStore("x" * 32)
    assert store.load() == {}
    assert store.session_key is None


def test_a_signed_in_member_stays_signed_in_and_sign_out_ends_it(client):
    member = MemberFactory()
    client.force_login(member.user)
    assert client.get("/customers/").status_code == 200
    client.post("/logout/")
    assert client.get("/customers/").status_code == 302
