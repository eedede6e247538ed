"""A chunk's e-mails over SMTP (notifications.transports.email): each is staged at the server
(envelope and content) on one of EMAIL_BATCH_SESSIONS sessions while the one before is marked, and
accepted (the final ".") only when the outbox asks for it. The messages are the ones Django's SMTP
backend would send, and a worker killed at a mark repeats at most one, whatever the sessions."""

import email
import email.policy
import socket
from unittest import mock

import pytest

from notifications import tasks
from notifications.models import Delivery
from notifications.services import outbox
from notifications.transports.email import EmailTransport

from .test_batch_sending import Killed, alert_many


class Server:
    """An SMTP server that notes each accepted message (its session and bytes) and refuses the
    recipients in `refused` with a permanent error."""

    def __init__(self):
        self.received: list[tuple[tuple, bytes]] = []
        self.refused: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((session.peer, envelope.original_content))
        return "250 OK"

    def by_delivery(self) -> dict[int, list]:
        messages: dict[int, list] = {}
        for _, content in self.received:
            message = email.message_from_bytes(content, policy=email.policy.default)
            messages.setdefault(int(message["X-Partner-Center-Delivery"]), []).append(message)
        return messages


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Server()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield server
    controller.stop()


def parts(message) -> tuple[str, str]:
    """The text and the HTML, line ends as Python writes them (SMTP carries CRLF)."""
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n").strip() for kind in ("plain", "html"))


@pytest.mark.django_db
@pytest.mark.parametrize("sessions", [1, 3])
def test_chunk_over_smtp_sends_each_e_mail_once_as_the_backend_would(shop, smtp, settings, sessions):
    settings.EMAIL_BATCH_SESSIONS = sessions
    ids = alert_many(shop)

    assert tasks.deliveries_send(ids) == {"skipped": 0, "sent": len(ids)}

    received = smtp.by_delivery()
    emails = Delivery.objects.filter(channel="email").select_related("alert__customer", "alert__reseller", "member")
    assert sorted(received) == sorted(d.pk for d in emails)
    assert 1 <= len({peer for peer, _ in smtp.received}) <= sessions
    for delivery in emails:
        [message] = received[delivery.pk]
        expected = EmailTransport().prepare(delivery).message()
        assert message["To"] == delivery.address
        assert message["Subject"] == str(email.message_from_bytes(expected.as_bytes(), policy=email.policy.default)["Subject"])
        assert parts(message) == parts(email.message_from_bytes(expected.as_bytes(), policy=email.policy.default))
        assert message["Message-ID"] == delivery.provider_ref and delivery.status == "sent"


@pytest.mark.django_db
@pytest.mark.parametrize("sessions", [1, 4])
def test_a_killed_worker_repeats_at_most_one_e_mail_whatever_the_sessions(shop, smtp, settings, sessions):
    """Several e-mails are staged at the server when the worker dies at its second e-mail's mark:
    only the two it asked for were accepted, one of them marked."""
    settings.EMAIL_BATCH_SESSIONS = sessions
    ids = alert_many(shop)
    real_mark = outbox._mark_sent
    marks = []

    def killed_at_the_second_e_mail_mark(sent, *, claimed_at):
        if Delivery.objects.filter(pk__in=[d for d, _, _ in sent], channel="email").exists():
            marks.append(sent)
            if len(marks) >= 2:
                raise Killed
        return real_mark(sent, claimed_at=claimed_at)

    with mock.patch.object(outbox, "_mark_sent", side_effect=killed_at_the_second_e_mail_mark), pytest.raises(Killed):
        tasks.deliveries_send(ids)
    accepted = set(smtp.by_delivery())
    marked = set(Delivery.objects.filter(channel="email", status="sent").values_list("id", flat=True))
    assert len(accepted) == 2 and len(marked) == 1 and marked < accepted


@pytest.mark.django_db
def test_a_refused_recipient_fails_its_delivery_and_the_chunk_goes_on(shop, smtp, settings):
    settings.EMAIL_BATCH_SESSIONS = 2
    ids = alert_many(shop)
    smtp.refused = {shop.customer.email}

    outcomes = tasks.deliveries_send(ids)

    assert outcomes == {"skipped": 0, "sent": len(ids) - 1, "failed": 1}
    refused = Delivery.objects.get(channel="email", address=shop.customer.email)
    assert refused.status == "failed" and "550" in refused.last_error
    assert sorted(smtp.by_delivery()) == sorted(
        Delivery.objects.filter(channel="email", status="sent").values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_smtp_sessions_write_without_waiting_for_the_servers_acknowledgement(shop, smtp, settings):
    """Nagle's algorithm off on every SMTP socket: a staged e-mail's final "." follows its content,
    to which the server does not answer, and with Nagle on the kernel held it until the server's
    delayed acknowledgement (up to 40 ms an e-mail)."""
    from notifications.transports import email as transport_email

    ids = alert_many(shop)
    delivery = Delivery.objects.filter(pk__in=ids, channel="email").select_related(
        "alert__customer", "alert__reseller", "member").first()
    session = transport_email._StagedSession()
    session.stage(EmailTransport().prepare(delivery))
    nodelay = session.backend.connection.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    session.finish()
    session.close()
    shared = transport_email._shared_connection(fresh=True)
    try:
        assert nodelay and shared.connection.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        shared.close()
        transport_email._process_connection.clear()
    assert list(smtp.by_delivery()) == [delivery.pk]
