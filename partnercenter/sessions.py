"""The session store: Django's database sessions, with the read every signed-in request sends
compiled once per connection (core.prepared) rather than by the ORM on each request.

Django's SessionStore asks for the row by key and `expire_date > now` through
`Session.objects.get`, whose compilation cost more than the database took to answer (console
pages, bench/console.py). Here the row is read by its key alone (the primary key) with a
PreparedQuery, and its expiry is checked in Python against the same `timezone.now()`: an expired
session is treated exactly as Django treats it (no session; its key dropped), and writes, cycling
keys and clearing expired sessions stay Django's."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.prepared import PreparedQuery

_SESSION_BY_KEY = PreparedQuery(lambda key: Session.objects.filter(session_key=key), key="prepared-sample-key")


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        found = _SESSION_BY_KEY.all(key=self.session_key)
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None
        return None
