import os
import sqlite3
import subprocess
import sys
from contextlib import closing, contextmanager
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() == "true"
PROJECT_DIR = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    for item in items:
        if "postgres" in item.keywords:
            if IN_CI:
                item.add_marker(pytest.mark.xfail(reason="CI must run on PostgreSQL", strict=True, run=False))
            else:
                item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://..."))


def pytest_sessionfinish(session, exitstatus):
    # In CI nothing may be skipped for want of PostgreSQL, Redis or Chromium.
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    xfailed = len(reporter.stats.get("xfailed", [])) if reporter else 0
    if skipped or xfailed:
        reporter.write_line(f"CI refuses skipped tests: {skipped} skipped, {xfailed} not run.", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def language_of_the_test_process_reset():
    """A request leaves the language its middleware chose active in the thread (LocaleMiddleware
    activates it and nothing deactivates it), so a test that requested a Chinese page left the next
    tests of its process writing their messages in Chinese, and which tests followed it depended on
    how pytest-xdist shared them out. Each test starts in the default language."""
    from django.utils import translation

    translation.deactivate()
    yield


@pytest.fixture(scope="session", autouse=True)
def own_task_queue_emptied_at_the_end():
    """On-commit enqueues of transactional tests publish tasks that no test consumes; each test
    process drops what is left in its own queue (settings.XDIST_WORKER) when it ends, so the queue
    does not grow run after run."""
    yield
    from django.conf import settings

    if settings.REDIS_URL:
        from partnercenter.celery import app

        app.control.purge()


@pytest.fixture
def enqueued(django_capture_on_commit_callbacks):
    """`with enqueued() as sent:` runs the block, then what it left for after commit (as its commit
    would), and lists in `sent` every task published on the way: ("app.tasks.name", args), with a
    third item {kwargs and options such as countdown} when there are any. The broker's edge,
    Task.apply_async, records the message instead of sending it; `failing=error` makes it raise
    that error after recording, as an unreachable broker does."""
    from celery.app.task import Task

    @contextmanager
    def capture(*, failing: BaseException | None = None):
        sent: list[tuple] = []

        def publish(task, args=None, kwargs=None, **options):
            extra = {**(kwargs or {}), **options}
            sent.append((task.name, tuple(args or ()), extra) if extra else (task.name, tuple(args or ())))
            if failing is not None:
                raise failing

        with mock.patch.object(Task, "apply_async", autospec=True, side_effect=publish), \
                django_capture_on_commit_callbacks(execute=True):
            yield sent

    return capture


@pytest.fixture
def reseller(db):
    from tests.factories import ResellerFactory

    return ResellerFactory()


@pytest.fixture
def funded_reseller(db):
    from credits.services import pool_grant
    from tests.factories import ResellerFactory

    reseller = ResellerFactory()
    pool_grant(reseller=reseller, amount="10000.00")
    return reseller


def _member(reseller, role):
    from tests.factories import MemberFactory

    return MemberFactory(reseller=reseller, role=role)


@pytest.fixture
def operator(reseller):
    return _member(reseller, "operator")


@pytest.fixture
def viewer(reseller):
    return _member(reseller, "viewer")


@pytest.fixture
def admin_member(reseller):
    return _member(reseller, "admin")


def _postgres_url(settings: dict) -> str:
    user = quote(settings["USER"] or "", safe="")
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "localhost"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(settings['NAME'], safe='')}"


@pytest.fixture
def manage_py(transactional_db, tmp_path):
    """Run `python manage.py ARGS` in a subprocess, as a user does: unlike call_command, that runs
    Django's system checks first. The command sees the test database. SQLite's lives in this
    process's memory, so it is copied to a file for the command and copied back afterwards (the way
    Django clones an in-memory test database for parallel runs)."""

    def run(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PARTNERCENTER_TESTING": "1", "PARTNERCENTER_VAR_DIR": str(tmp_path / "var")}
        # Tasks the command enqueues go to the memory broker, never to a queue a test worker reads.
        env.pop("REDIS_URL", None)
        copy = None
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            copy = tmp_path / "manage-py.sqlite3"
            with closing(sqlite3.connect(copy)) as target:
                connection.connection.backup(target)
            env["DATABASE_URL"] = f"sqlite:///{copy}"
        else:
            env["DATABASE_URL"] = _postgres_url(connection.settings_dict)
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600
        )
        if copy is not None:
            with closing(sqlite3.connect(copy)) as source:
                source.backup(connection.connection)
        return result

    return run
