"""E-mail through Django's e-mail backends (SMTP in production, files in development, the
locmem outbox in tests): plain text with an HTML alternative. The SMTP connections live here too:
one kept open per worker process for single sends, EMAIL_BATCH_SESSIONS per chunk of a batch.
A chunk with one session prepares its next e-mails while the current one is sent and marked."""

import re
import smtplib
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from email.utils import make_msgid
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
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
        _open(connection)
        _process_connection.clear()
        _process_connection[key] = connection
    return connection


def _open(backend) -> None:
    """Open an e-mail backend's connection; over SMTP with Nagle's algorithm off (TCP_NODELAY). A
    staged e-mail's final "." is a few bytes written after its content, to which the server does
    not answer: with Nagle on, the kernel holds the "." until the server acknowledges the content,
    which it delays by up to 40 ms (delayed ACK), and every e-mail waited that long."""
    backend.open()
    smtp = getattr(backend, "connection", None)
    sock = getattr(smtp, "sock", None)
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Frozen:
    """A MIME message whose SMTP bytes were generated once, ahead of sending (the rest of the
    email.message API is the message's own)."""

    def __init__(self, mime):
        self._mime = mime
        self._smtp_bytes = mime.as_bytes(linesep="\r\n")

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        if linesep == "\r\n" and not unixfrom:
            return self._smtp_bytes
        return self._mime.as_bytes(unixfrom=unixfrom, linesep=linesep)

    def __getattr__(self, name):
        if name.startswith("_"):  # copy and pickle probe for these before __init__ ran
            raise AttributeError(name)
        return getattr(self._mime, name)


class _Prepared(EmailMultiAlternatives):
    """An e-mail whose MIME form is built once (freeze()), so that a backend sending it later does
    no rendering or encoding: the same message, headers and bytes as an EmailMultiAlternatives."""

    _frozen = None

    def freeze(self) -> None:
        self._frozen = _Frozen(super().message())

    def message(self, *args, **kwargs):
        return self._frozen if self._frozen is not None else super().message(*args, **kwargs)


class EmailTransport(Transport):
    channel = "email"

    def __init__(self, connection=None):
        # A batch passes one open connection so that SMTP is not re-dialled per message.
        self.connection = connection

    def subject(self, delivery, context: dict | None = None) -> str:
        sentence = (context or self.context(delivery))["sentence"]
        with translation.override(self.language(delivery)):
            return gettext("[Partner Center] %(sentence)s") % {"sentence": sentence}

    def prepare(self, delivery) -> "_Prepared":
        """The delivery's message, rendered and encoded, not yet handed to anyone: a chunk over SMTP
        prepares the next messages while the current one is being accepted and marked."""
        context = self.context(delivery)
        message = _Prepared(
            subject=self.subject(delivery, context),
            body=self.render("notifications/email/alert.txt", delivery, context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.address],
            headers={"Message-ID": make_msgid(domain=str(DNS_NAME)), "X-Partner-Center-Delivery": str(delivery.pk)},
        )
        message.attach_alternative(self.render("notifications/email/alert.html", delivery, context), "text/html")
        message.freeze()
        return message

    def send(self, delivery) -> str:
        message = self.prepare(delivery)
        with _smtp_errors():
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
        if sent != 1:
            raise TransportError("The e-mail backend accepted no message.")
        return message.extra_headers.get("Message-ID", "")


@contextmanager
def _smtp_errors():
    """What SMTP answered or how the connection failed, as the TransportError it means."""
    try:
        yield
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


_LEADING_PERIOD = re.compile(rb"(?m)^\.")


class _StagedSession:
    """One SMTP session that sends an e-mail in two steps (RFC 5321 §4.1.1.4): stage() gives the
    server the envelope and the content (MAIL, RCPT, DATA and the lines), finish() the final "."
    that makes the server accept it. A message is the server's only from finish(): staged and then
    dropped (the worker stopped, the connection closed) it is discarded, never delivered. So the
    next e-mail can be staged while the caller records the last one's acceptance, and accepted only
    after it: the same SMTP exchange as Django's EmailBackend.send_messages, split in two."""

    def __init__(self):
        self.backend = get_connection()
        self.in_transaction = False  # from MAIL until the server's answer to the final "."

    def stage(self, message: "_Prepared") -> None:
        with _smtp_errors():
            if self.backend.connection is None:
                _open(self.backend)
            smtp = self.backend.connection
            encoding = message.encoding or settings.DEFAULT_CHARSET
            sender = sanitize_address(message.from_email, encoding)
            recipients = [sanitize_address(address, encoding) for address in message.recipients()]
            content = message.message().as_bytes(linesep="\r\n")
            smtp.ehlo_or_helo_if_needed()
            self.in_transaction = True
            options = [f"size={len(content)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
            code, answer = smtp.mail(sender, options)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, answer, sender)
            refused = {}
            for recipient in recipients:
                code, answer = smtp.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = (code, answer)
            if len(refused) == len(recipients):
                raise smtplib.SMTPRecipientsRefused(refused)
            code, answer = smtp.docmd("data")
            if code != 354:
                raise smtplib.SMTPDataError(code, answer)
            content = _LEADING_PERIOD.sub(b"..", content)
            smtp.send(content if content.endswith(b"\r\n") else content + b"\r\n")

    def finish(self) -> None:
        with _smtp_errors():
            smtp = self.backend.connection
            smtp.send(b".\r\n")
            code, answer = smtp.getreply()
            self.in_transaction = False
            if code != 250:
                raise smtplib.SMTPDataError(code, answer)

    def close(self) -> None:
        """End the session; one in the middle of a message is cut (no QUIT, which the server would
        read as a line of the content), and the message with it."""
        if self.in_transaction and self.backend.connection is not None:
            self.backend.connection.close()
            self.backend.connection = None
            self.in_transaction = False
        self.backend.close()


# How many of a chunk's e-mails are rendered and encoded ahead of the one being accepted (on a
# thread of their own, while the worker waits for the server and the database).
PREPARE_AHEAD = 4


class _Later:
    """A send that happens when its result is asked for, on the asking thread."""

    def __init__(self, send):
        self._send = send

    def result(self) -> str:
        return self._send()


class _Routed:
    """A chunk's transport: `submit(delivery)` returns an object whose result() is what send()
    returns or raises, and a delivery is accepted by its channel only when its result is asked
    for. The caller (notifications.services.outbox.deliveries_attempt) asks in the chunk's order
    and marks each accepted delivery before it asks for the next: so however many are submitted
    ahead (`ahead`), at most one is accepted and not yet marked (DESIGN §3).

    What goes on meanwhile: the next e-mails are rendered and encoded on a thread of their own;
    over SMTP, EMAIL_BATCH_SESSIONS sessions, each with a thread of its own, stage the e-mails in
    turn (the n-th e-mail on session n modulo their number: envelope and content, all but the
    final "."), so that asking for an e-mail costs the asking thread one reply of the server: it
    writes the final "." itself and reads the answer, which frees the session for its next e-mail.
    Other channels, and e-mail backends other than SMTP, send in the caller's thread when asked
    (the Message Center writes rows on the caller's database connection)."""

    def __init__(self, sessions: int):
        self.sessions = sessions
        self.ahead = max(PREPARE_AHEAD, sessions + 1)
        self._prepare = ThreadPoolExecutor(max_workers=1, thread_name_prefix="email-prepare")
        self._smtp = isinstance(get_connection(), SmtpBackend)
        self._submitted = 0
        self._stopping = False
        # Per session: the session, its staging thread, and its token (held from staging an e-mail
        # until that e-mail is accepted, so that the session stages its next one only then). The
        # caller asks in submission order, so the e-mail it waits for never waits for its session.
        self._lanes: list[tuple[_StagedSession, ThreadPoolExecutor, threading.Semaphore]] = []
        if self._smtp:
            self._lanes = [
                (_StagedSession(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp-session"),
                 threading.Semaphore(1))
                for _ in range(sessions)
            ]

    def _stage(self, lane, prepared: Future) -> str:
        """On the session's thread: the e-mail staged once the session's last e-mail is accepted."""
        session, _, free = lane
        message = prepared.result()
        free.acquire()
        try:
            if self._stopping:
                raise TransportError("Not sent: the chunk stopped before this e-mail.")
            session.stage(message)
        except BaseException:
            session.close()  # the next e-mail re-dials rather than reuse a broken session
            free.release()
            raise
        return message.extra_headers.get("Message-ID", "")

    @staticmethod
    def _accept(lane, staged: Future) -> str:
        """On the asking thread: the final "." of a staged e-mail, and the server's answer."""
        session, _, free = lane
        message_id = staged.result()
        try:
            session.finish()
        except BaseException:
            session.close()
            raise
        finally:
            free.release()
        return message_id

    def submit(self, delivery):
        if delivery.channel == EmailTransport.channel and self._smtp:
            prepared = self._prepare.submit(EmailTransport().prepare, delivery)
            lane = self._lanes[self._submitted % self.sessions]
            self._submitted += 1
            return _Later(partial(self._accept, lane, lane[1].submit(self._stage, lane, prepared)))
        if delivery.channel == EmailTransport.channel:
            return _Later(partial(EmailTransport().send, delivery))
        from . import transport_for

        return _Later(partial(transport_for(delivery.channel).send, delivery))

    def send(self, delivery) -> str:
        return self.submit(delivery).result()

    def close(self) -> None:
        # E-mails staged but never asked for are dropped with their sessions, not accepted; a
        # staging thread waiting for its session is woken and stages nothing.
        self._stopping = True
        for _, _, free in self._lanes:
            free.release()
        for session, staging, _ in self._lanes:
            staging.shutdown(wait=True, cancel_futures=True)
            session.close()
        self._prepare.shutdown(wait=True, cancel_futures=True)


@contextmanager
def batch_transport(sessions: int | None = None):
    """A transport for a chunk of deliveries of any channel, its e-mails over `sessions` SMTP
    connections at once (EMAIL_BATCH_SESSIONS; opened as needed, closed at the end), accepted one
    at a time as the caller asks for them."""
    routed = _Routed(sessions or settings.EMAIL_BATCH_SESSIONS)
    try:
        yield routed
    finally:
        routed.close()
