"""The real thing: a Celery worker process against Redis and this test's PostgreSQL database, a
local SMTP server (aiosmtpd), the SMS file backend. A usage charge pushes a customer past 90 %;
the e-mail, the SMS file and both Message Centers must show it."""

import os
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from celery.app.task import Task
from django.db import connection
from django.utils import timezone

from credits.services import usage_charge_record
from notifications.models import Delivery, Message
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://..."),
]
ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60
APPLY_ASYNC = Task.apply_async  # as collected, before any test could patch it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(check, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out after {WAIT_SECONDS}s waiting for {what}")


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def worker(smtp_server, tmp_path):
    controller, _ = smtp_server
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "PARTNERCENTER_TESTING": "1",
        "DEBUG": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "SMS_BACKEND": "file",
        "SMS_FILE_PATH": str(tmp_path / "sms"),
        "PARTNERCENTER_VAR_DIR": str(tmp_path / "var"),
    }
    command = [sys.executable, "-m", "celery", "-A", "partnercenter", "worker", "--pool=solo", "--loglevel=INFO",
               "--purge", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test-{os.getpid()}@%h"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    ready = threading.Event()

    def drain():
        for line in process.stdout:
            output.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not ready.wait(WAIT_SECONDS):
            pytest.fail("the Celery worker did not start:\n" + "".join(output[-40:]))
        yield type("Worker", (), {"sms_dir": tmp_path / "sms", "output": output})
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def assert_enqueueing_is_real():
    """A mock left on a task's delay, or on the broker's edge, by an earlier test in this process
    would make the test below wait out its timeouts for messages never sent: name it at once."""
    from notifications import tasks

    assert Task.apply_async is APPLY_ASYNC, "Task.apply_async is patched"
    for task in (tasks.customer_evaluate, tasks.deliveries_send, tasks.delivery_send):
        assert task.delay.__func__ is Task.delay, f"{task.name}.delay is patched"
        assert task.apply_async.__func__ is APPLY_ASYNC, f"{task.name}.apply_async is patched"


def test_usage_past_90_percent_reaches_email_sms_and_both_message_centers(smtp_server, worker):
    assert_enqueueing_is_real()
    _, inbox = smtp_server
    reseller = ResellerFactory(contact_email="ops@live.example", contact_phone="+6580004444", customer_alert_email=False)
    admin = MemberFactory(reseller=reseller, role="admin", user=UserFactory(username="live-admin", email="admin@live.example"))
    customer = CustomerFactory(reseller=reseller, credit=Decimal("1000.00"), used=Decimal("850.00"),
                               email="billing@live-customer.example", phone="+6590005555")

    charge, created = usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount="60.00",
                                          incurred_at=timezone.now(), external_id="live-1")
    assert created

    try:
        wait_for(lambda: any("ops@live.example" in to for to, _ in inbox.messages), "the e-mail at the SMTP server")
        to, content = next(m for m in inbox.messages if "ops@live.example" in m[0])
        assert f"(UIN {customer.uin}) has used 90% of its credit" in content
        assert "text/html" in content
        wait_for(lambda: len(list(worker.sms_dir.glob("*.sms"))) >= 2, "two SMS files")
        texts = sorted(p.read_text() for p in worker.sms_dir.glob("*.sms"))
        assert any("+6580004444" in t for t in texts) and any("+6590005555" in t for t in texts)
        wait_for(lambda: Message.objects.filter(member=admin).exists(), "the reseller's Message Center")
        wait_for(lambda: Message.objects.filter(customer=customer, for_customer=True).exists(), "the customer's Message Center")
        assert "90%" in Message.objects.get(member=admin).title
        wait_for(lambda: not Delivery.objects.exclude(status="sent").exists(), "every delivery marked sent")
        assert not any("billing@live-customer.example" in to for to, _ in inbox.messages)  # switched off
    except BaseException:
        print("".join(worker.output[-60:]))
        raise

