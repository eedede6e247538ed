"""A chunk of deliveries (deliveries_send): e-mails over several SMTP sessions at once, the accepted
ones marked sent in bulk. Each delivery is still sent once, marked only after its transport
accepted it, and a worker killed before the mark repeats messages but never loses one."""

import socket
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from notifications import tasks
from notifications.models import Delivery, Message
from notifications.services import customer_alerts_evaluate, deliveries_stuck, outbox
from notifications.transports import sms
from tests.factories import CustomerFactory
from tests.threads import run_together

from .conftest import set_usage

CUSTOMERS = 12


def alert_many(shop):
    """CUSTOMERS customers of the shop past 90 %, each with its own e-mail address and phone."""
    customers = [shop.customer] + [
        CustomerFactory(reseller=shop.reseller, credit=Decimal("100.00"), phone=f"+659100{i:04d}")
        for i in range(CUSTOMERS - 1)
    ]
    for customer in customers:
        set_usage(customer, used="91.00")
        customer_alerts_evaluate(customer_id=customer.pk)
    return list(Delivery.objects.order_by("id").values_list("id", flat=True))


def emails_by_delivery():
    sent: dict[int, list] = {}
    for message in mail.outbox:
        sent.setdefault(int(message.extra_headers["X-Partner-Center-Delivery"]), []).append(message)
    return sent


@pytest.mark.django_db
def test_chunk_marks_every_delivery_sent_with_its_own_reference_and_time(shop, monkeypatch):
    monkeypatch.setattr(outbox, "MARK_SENT_EVERY", 7)  # several bulk marks and a remainder
    ids = alert_many(shop)
    before = timezone.now()

    outcomes = tasks.deliveries_send(ids)

    assert outcomes == {"skipped": 0, "sent": len(ids)}
    emails = Delivery.objects.filter(channel="email")
    assert emails.count() == 3 * CUSTOMERS  # the contact, the admin, the customer
    sent = emails_by_delivery()
    assert sorted(sent) == sorted(emails.values_list("id", flat=True))  # each e-mail once, none missing
    for delivery in Delivery.objects.all():
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
        assert before <= delivery.sent_at <= timezone.now()
        if delivery.channel == "email":
            [message] = sent[delivery.pk]
            assert message.to == [delivery.address]
            assert delivery.provider_ref == message.extra_headers["Message-ID"]
    assert len(sms.outbox) == 2 * CUSTOMERS
    assert tasks.deliveries_send(ids) == {"skipped": len(ids)}
    assert len(mail.outbox) == len(sent)


class Killed(BaseException):
    """The worker process dying: nothing after it runs, not even error handling for Exception."""


@pytest.mark.django_db
def test_worker_killed_before_the_bulk_mark_repeats_messages_but_loses_none(shop, settings, enqueued, monkeypatch):
    monkeypatch.setattr(outbox, "MARK_SENT_EVERY", 5)
    ids = alert_many(shop)
    emails = set(Delivery.objects.filter(channel="email").values_list("id", flat=True))

    real_mark = outbox._mark_sent
    marks = []

    def killed_after_the_inbox(sent, *, claimed_at):
        # The chunk's Message Center rows are marked first (with their insert); the kill comes
        # at the first mark of what other transports accepted.
        if not marks:
            marks.append(sent)
            return real_mark(sent, claimed_at=claimed_at)
        raise Killed

    with mock.patch.object(outbox, "_mark_sent", side_effect=killed_after_the_inbox), pytest.raises(Killed):
        tasks.deliveries_send(ids)
    first_run = emails_by_delivery()
    assert first_run and set(first_run) <= emails
    # Accepted by the transport but never marked: still "sending", never "sent".
    assert set(Delivery.objects.filter(status="sent").values_list("channel", flat=True)) == {"inbox"}
    assert Delivery.objects.filter(pk__in=first_run, status="sending").count() == len(first_run)

    # The stuck sweep picks them up once they are stale, and the next worker sends each again.
    stale = timezone.now() - timedelta(seconds=settings.DELIVERY_STALE_AFTER + 5)
    Delivery.objects.filter(status="sending").update(claimed_at=stale)
    with enqueued() as queued:
        assert tasks.deliveries_resend_stuck() == len(ids) - Message.objects.count()
    for _, (chunk,) in queued:
        tasks.deliveries_send(chunk)

    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert Message.objects.count() == Delivery.objects.filter(channel="inbox").count()
    delivered = emails_by_delivery()
    assert set(delivered) == emails  # none lost
    repeated = {pk for pk, messages in delivered.items() if len(messages) > 1}
    assert repeated == set(first_run)  # only what the killed worker had sent, and once more only
    assert all(len(messages) <= 2 for messages in delivered.values())
    assert deliveries_stuck() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_chunk_workers_send_each_delivery_once(shop):
    ids = alert_many(shop)
    mail.outbox = []
    errors = run_together([lambda: tasks.deliveries_send(ids) for _ in range(4)])
    assert errors == []
    sent = emails_by_delivery()
    assert sorted(sent) == sorted(Delivery.objects.filter(channel="email").values_list("id", flat=True))
    assert all(len(messages) == 1 for messages in sent.values())
    assert len(sms.outbox) == 2 * CUSTOMERS
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}


class Recorder:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((session.peer, envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield recorder
    controller.stop()


@pytest.mark.django_db
def test_chunk_sends_over_at_most_the_configured_smtp_sessions(shop, smtp, settings):
    settings.EMAIL_BATCH_SESSIONS = 3
    ids = alert_many(shop)

    assert tasks.deliveries_send(ids) == {"skipped": 0, "sent": len(ids)}

    addresses = sorted(Delivery.objects.filter(channel="email").values_list("address", flat=True))
    assert sorted(to for _, rcpt in smtp.received for to in rcpt) == addresses  # each once
    assert 1 <= len({peer for peer, _ in smtp.received}) <= 3


@pytest.mark.django_db
def test_message_center_rows_are_committed_with_their_sent_mark(shop):
    ids = alert_many(shop)
    inbox = Delivery.objects.filter(channel="inbox")
    assert inbox.count() == 3 * CUSTOMERS  # the admin, the viewer, the customer

    with mock.patch.object(outbox, "_mark_sent", side_effect=Killed), pytest.raises(Killed):
        tasks.deliveries_send(ids)
    # Killed at the mark: the insert went with it, nothing half done.
    assert not Message.objects.exists()
    assert set(inbox.values_list("status", flat=True)) == {"sending"}

    Delivery.objects.filter(status="sending").update(claimed_at=timezone.now() - timedelta(days=1))
    tasks.deliveries_send(ids)
    assert sorted(Message.objects.values_list("delivery_id", flat=True)) == sorted(inbox.values_list("id", flat=True))
    for delivery in inbox:
        assert delivery.status == "sent" and delivery.provider_ref == f"message:{delivery.message.pk}"
    assert Message.objects.filter(member=shop.admin).count() == CUSTOMERS
    assert Message.objects.filter(for_customer=True, member__isnull=True).count() == CUSTOMERS


@pytest.mark.django_db
def test_a_message_written_by_an_earlier_attempt_is_kept_not_doubled(shop):
    """delivery_send (one at a time) writes the row, then is killed before its mark; the chunk that
    sends it again finds the row and keeps it."""
    ids = alert_many(shop)
    first = Delivery.objects.filter(channel="inbox").order_by("id").first()
    with mock.patch.object(outbox, "_mark_sent", side_effect=Killed), pytest.raises(Killed):
        tasks.delivery_send(first.pk)
    [kept] = Message.objects.all()
    Delivery.objects.filter(pk=first.pk).update(claimed_at=timezone.now() - timedelta(days=1))

    tasks.deliveries_send(ids)
    assert Message.objects.filter(delivery=first).get().pk == kept.pk
    first.refresh_from_db()
    assert (first.status, first.attempts, first.provider_ref) == ("sent", 2, f"message:{kept.pk}")


@pytest.mark.django_db
def test_with_the_default_settings_a_killed_worker_repeats_at_most_one_message(shop, settings):
    """DESIGN §3: a crash between "sent" and "marked" may repeat one message, never more."""
    assert outbox.MARK_SENT_EVERY == 1  # and EMAIL_BATCH_SESSIONS as configured (test_staged_smtp: any number)
    ids = alert_many(shop)
    real_mark = outbox._mark_sent
    marks = []

    def killed_at_the_second_e_mail_mark(sent, *, claimed_at):
        if any(channel == "email" for channel in Delivery.objects.filter(pk__in=[d for d, _, _ in sent])
               .values_list("channel", flat=True)):
            marks.append(sent)
            if len(marks) >= 2:  # the process is gone: its `finally` cannot mark anything either
                raise Killed
        return real_mark(sent, claimed_at=claimed_at)

    with mock.patch.object(outbox, "_mark_sent", side_effect=killed_at_the_second_e_mail_mark), pytest.raises(Killed):
        tasks.deliveries_send(ids)
    accepted = set(emails_by_delivery())
    marked = set(Delivery.objects.filter(channel="email", status="sent").values_list("id", flat=True))
    # Accepted by SMTP but not marked sent: what the stuck sweep would send again.
    assert len(accepted - marked) == 1
    assert len(marked) == 1
