"""E-mail through Django's e-mail backends (SMTP in production, files in development, the
locmem outbox in tests): plain text with an HTML alternative. The SMTP connections live here too:
one kept open per worker process for single sends, EMAIL_BATCH_SESSIONS per chunk of a batch."""

import smtplib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.utils import translation
from django.utils.translation import gettext

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

    def subject(self, delivery, context: dict | None = None) -> str:
        sentence = (context or self.context(delivery))["sentence"]
        with translation.override(self.language(delivery)):
            return gettext("[Partner Center] %(sentence)s") % {"sentence": sentence}

    def send(self, delivery) -> str:
        context = self.context(delivery)
        message = EmailMultiAlternatives(
            subject=self.subject(delivery, context),
            body=self.render("notifications/email/alert.txt", delivery, context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.address],
            headers={"Message-ID": make_msgid(domain=str(DNS_NAME)), "X-Partner-Center-Delivery": str(delivery.pk)},
        )
        message.attach_alternative(self.render("notifications/email/alert.html", delivery, context), "text/html")
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
    """A chunk's transport: e-mails go out over EMAIL_BATCH_SESSIONS SMTP sessions at once, one per
    thread (a message spends most of its time waiting for the server's four replies, so a single
    session leaves the worker idle), other channels through their own transport in the caller's
    thread (the Message Center writes rows on the caller's database connection).

    `submit(delivery)` returns a future whose result() is what send() returns or raises."""

    def __init__(self, sessions: int):
        self.sessions = sessions
        self._local = threading.local()
        self._transports: list[EmailTransport] = []
        self._transports_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=sessions, thread_name_prefix="smtp-session")

    def _thread_transport(self) -> EmailTransport:
        transport = getattr(self._local, "transport", None)
        if transport is None:
            connection = get_connection()
            try:
                connection.open()
            except (OSError, smtplib.SMTPException):
                pass  # each e-mail then dials on its own and records its own transient error
            transport = self._local.transport = EmailTransport(connection=connection)
            with self._transports_lock:
                self._transports.append(transport)
        return transport

    def _send_email(self, delivery) -> str:
        transport = self._thread_transport()
        try:
            return transport.send(delivery)
        except TransportError:
            # A broken SMTP session would fail this thread's next messages too: they re-dial.
            transport.connection.close()
            raise

    def submit(self, delivery) -> Future:
        if delivery.channel == EmailTransport.channel:
            return self._pool.submit(self._send_email, delivery)
        from . import transport_for

        done: Future = Future()
        try:
            done.set_result(transport_for(delivery.channel).send(delivery))
        except Exception as exc:  # handed to the caller through result(), as the pool does
            done.set_exception(exc)
        return done

    def send(self, delivery) -> str:
        return self.submit(delivery).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for transport in self._transports:
            transport.connection.close()


@contextmanager
def batch_transport(sessions: int | None = None):
    """A transport for a chunk of deliveries of any channel, its e-mails over `sessions` SMTP
    connections at once (EMAIL_BATCH_SESSIONS; opened as needed, closed at the end)."""
    routed = _Routed(sessions or settings.EMAIL_BATCH_SESSIONS)
    try:
        yield routed
    finally:
        routed.close()
