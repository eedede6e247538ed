"""E-mail through Django's e-mail backends (SMTP in production, files in development, the
locmem outbox in tests): plain text with an HTML alternative. The SMTP connections live here too:
one kept open per worker process for single sends, one per chunk for the sweep's batches."""

import smtplib
from contextlib import contextmanager
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME

from . import Transport, TransportError

# One open connection per worker process, re-dialled when the server drops it: a worker sending
# one e-mail per task then pays the SMTP handshake once, not per message.
_process_connection: dict = {}


def _shared_connection(*, fresh: bool = False):
    key = (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT)
    connection = _process_connection.get(key)
    if connection is not None and fresh:
        connection.close()
        connection = None
    if connection is None:
        connection = get_connection()
        connection.open()
        _process_connection.clear()
        _process_connection[key] = connection
    return connection


class EmailTransport(Transport):
    channel = "email"

    def __init__(self, connection=None):
        # A batch passes one open connection so that SMTP is not re-dialled per message.
        self.connection = connection

    def subject(self, delivery) -> str:
        return f"[Partner Center] {self.context(delivery)['sentence']}"

    def send(self, delivery) -> str:
        message = EmailMultiAlternatives(
            subject=self.subject(delivery),
            body=self.render("notifications/email/alert.txt", delivery),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.address],
            headers={"Message-ID": make_msgid(domain=str(DNS_NAME)), "X-Partner-Center-Delivery": str(delivery.pk)},
        )
        message.attach_alternative(self.render("notifications/email/alert.html", delivery), "text/html")
        try:
            if self.connection is not None:
                message.connection = self.connection
                sent = message.send()
            else:
                try:
                    message.connection = _shared_connection()
                    sent = message.send()
                except (smtplib.SMTPServerDisconnected, ConnectionError):
                    # The kept-open session went stale (server idle timeout): dial once more.
                    message.connection = _shared_connection(fresh=True)
                    sent = message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise TransportError(f"Recipient refused: {exc.recipients}", permanent=all(c >= 500 for c in codes)) from exc
        except smtplib.SMTPAuthenticationError as exc:
            # A credentials problem is fixed by an operator, so later attempts may succeed.
            raise TransportError(f"SMTP authentication failed ({exc.smtp_code})") from exc
        except smtplib.SMTPResponseException as exc:
            raise TransportError(
                f"SMTP error {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP unavailable: {exc}") from exc
        if sent != 1:
            raise TransportError("The e-mail backend accepted no message.")
        return message.extra_headers.get("Message-ID", "")


class _Routed:
    """E-mail through the chunk's shared connection, other channels through their own transport."""

    def __init__(self, email: EmailTransport):
        self.email = email

    def send(self, delivery) -> str:
        from . import transport_for

        if delivery.channel != EmailTransport.channel:
            return transport_for(delivery.channel).send(delivery)
        try:
            return self.email.send(delivery)
        except TransportError:
            # A broken SMTP session would fail the rest of the chunk too: the next one re-dials.
            self.email.connection.close()
            raise


@contextmanager
def batch_transport():
    """A transport for a chunk of deliveries of any channel, its e-mails over one SMTP connection
    (opened here, closed at the end)."""
    connection = get_connection()
    try:
        try:
            connection.open()
        except (OSError, smtplib.SMTPException):
            pass  # each e-mail then dials on its own and records its own transient error
        yield _Routed(EmailTransport(connection=connection))
    finally:
        connection.close()
