"""The delivery outbox (DESIGN §3): which deliveries an alert gets (written in the evaluation's
transaction), then sending each one after commit: claimed with a conditional UPDATE, handed to its
channel's transport, retried with capped backoff when the failure is transient.

One delivery per (alert, recipient, channel) and per (alert, channel, address), each backed by a
UNIQUE constraint; a delivery is marked sent only after its transport accepted it."""

import logging
from collections import deque
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Case, CharField, DateTimeField, F, Q, Value, When
from django.utils import timezone

from ..models import Delivery
from ..transports import TransportError, transport_for
from .sql import ids_param, in_ids

logger = logging.getLogger(__name__)

# A pending delivery older than this has lost its queued task (broker restart, crash between
# commit and publish): the stuck-delivery sweep enqueues it again.
PENDING_GRACE = timedelta(seconds=60)
# Deliveries per task when the sweep enqueues them (fewer broker round trips).
ENQUEUE_CHUNK = 500
# A chunk's accepted deliveries are marked sent this many at a time, in one UPDATE. DESIGN §3: a
# crash between "sent" and "marked" may repeat one message, never more; so each accepted delivery
# is marked at once (a commit per message). A chunk's e-mails are staged at the server on
# EMAIL_BATCH_SESSIONS sessions (default 4) but accepted one at a time, each after the one before
# is marked (notifications.transports.email), so the sessions do not add to what may repeat. Raising
# MARK_SENT_EVERY would trade that rule for throughput: a worker killed between acceptance and the
# mark would repeat up to MARK_SENT_EVERY messages.
MARK_SENT_EVERY = 1
# A transport's error and reference are the provider's text, kept as far as their columns hold.
ERROR_MAX = Delivery._meta.get_field("last_error").max_length
PROVIDER_REF_MAX = Delivery._meta.get_field("provider_ref").max_length


_DELIVERY_COLUMNS = (
    "alert_id, recipient_kind, member_id, recipient_key, channel, address, "
    "status, attempts, last_error, created_at, next_attempt_at, provider_ref"
)
# Who gets what (DESIGN §3): the reseller's contact address and phone, its members on the channels
# they chose, and the customer unless the reseller switched customer alerts off. Custom warnings go
# to the reseller only; re-arm and new-customer notices to the members' Message Center only; account
# status notices (notifications.services.status) go where usage thresholds go; the customer's own
# credit notification to the customer only (its own switches and the reseller's).
# One address gets one message per alert, whoever it belongs to: of the recipients sharing an
# e-mail address (compared trimmed and case-insensitively) or a phone number, the contact keeps the
# delivery, else the member with the lowest id, else the customer. The reseller's side is settled
# once per reseller (`staff`, a few rows each), so the alerts need no sort; the unique index
# delivery_once_per_address backs the rule.
# Message Center deliveries are one per inbox, never merged.
# No ON CONFLICT: an alert's deliveries are written once, by the transaction that inserted the alert
# (every caller passes only alerts it has just inserted; evaluations that race meet at the alert's
# own unique key, and the loser inserts no alert), and the statement writes one row per recipient,
# channel and address, so no row can conflict. ON CONFLICT DO NOTHING probed all three unique
# indexes before each row: a sweep batch's 25,000 deliveries took 541 ms with it and 351 ms
# without (median of 10 batches, each rolled back). A conflict now would be a bug,
# and fails the batch rather than dropping a message silently.
_MEMBER_KEY = "'member:' || CAST(m.id AS VARCHAR(20))"
_ADDRESS_KEY = "LOWER(TRIM({address}))"


def _customer_addressed(*, channel: str, column: str) -> str:
    """The customer's delivery on a channel with an address (e-mail, SMS): when the reseller and the
    customer have that channel on, and no one on the reseller's side already has the address."""
    same = _ADDRESS_KEY.format(address="s.address") + " = " + _ADDRESS_KEY.format(address=f"a.{column}")
    return f"""  SELECT a.id, 'customer', NULL, 'customer', '{channel}', a.{column},
         'pending', 0, '', %(now)s, %(now)s, ''
    FROM a JOIN customers_reseller r ON r.id = a.reseller_id
   WHERE a.kind IN ('threshold', 'status', 'credit') AND r.customer_alerts_enabled AND r.customer_alert_{channel}
     AND a.alert_{channel} AND a.wants_{channel} AND a.{column} <> ''
     AND NOT EXISTS (SELECT 1 FROM staff s WHERE s.reseller_id = a.reseller_id AND s.channel = '{channel}'
                        AND {same})"""


# `a`: the alerts with their customers' addresses and switches, the customer read once per alert
# for its three channels (three lookups of the same customer had cost a sweep batch of 5,000 alerts
# about 10,000 more index descents; EXPLAIN ANALYZE). Looked up by its primary key for each alert
# (OFFSET 0 keeps the lateral subquery a lookup): as a plain join the planner merged the sorted
# alerts with the customer table from its first row, 200,000 rows read for 5,000 alerts.
_DELIVERIES = f"""
WITH a AS MATERIALIZED (
  SELECT al.id, al.reseller_id, al.customer_id, al.kind, c.*
    FROM notifications_alert al
    LEFT JOIN LATERAL (SELECT email, phone, alert_email, wants_email, alert_sms, wants_sms, alert_inbox, wants_inbox
                         FROM customers_customer c WHERE c.id = al.customer_id OFFSET 0) c ON TRUE
   WHERE {{ids}}
),
staff AS MATERIALIZED (
  SELECT reseller_id, recipient_kind, member_id, recipient_key, channel, address FROM (
    SELECT s.*, ROW_NUMBER() OVER (
             PARTITION BY reseller_id, channel,
                          CASE WHEN channel = 'inbox' THEN recipient_key ELSE {_ADDRESS_KEY.format(address="address")} END
             ORDER BY precedence, member_id) AS nth
    FROM (
      SELECT r.id AS reseller_id, 'contact' AS recipient_kind, CAST(NULL AS BIGINT) AS member_id,
             'contact' AS recipient_key, 'email' AS channel, r.contact_email AS address, 0 AS precedence
        FROM customers_reseller r
       WHERE r.id IN (SELECT reseller_id FROM a) AND r.contact_alert_email AND r.contact_email <> ''
      UNION ALL
      SELECT r.id, 'contact', NULL, 'contact', 'sms', r.contact_phone, 0
        FROM customers_reseller r
       WHERE r.id IN (SELECT reseller_id FROM a) AND r.contact_alert_sms AND r.contact_phone <> ''
      UNION ALL
      SELECT m.reseller_id, 'member', m.id, {_MEMBER_KEY}, 'email', u.email, 1
        FROM customers_member m JOIN auth_user u ON u.id = m.user_id
       WHERE m.reseller_id IN (SELECT reseller_id FROM a) AND m.alert_email AND u.is_active AND u.email <> ''
      UNION ALL
      SELECT m.reseller_id, 'member', m.id, {_MEMBER_KEY}, 'sms', m.phone, 1
        FROM customers_member m JOIN auth_user u ON u.id = m.user_id
       WHERE m.reseller_id IN (SELECT reseller_id FROM a) AND m.alert_sms AND u.is_active AND m.phone <> ''
      UNION ALL
      SELECT m.reseller_id, 'member', m.id, {_MEMBER_KEY}, 'inbox', '', 1
        FROM customers_member m JOIN auth_user u ON u.id = m.user_id
       WHERE m.reseller_id IN (SELECT reseller_id FROM a) AND m.alert_inbox AND u.is_active
    ) AS s
  ) AS ranked
  WHERE nth = 1
)
INSERT INTO notifications_delivery ({_DELIVERY_COLUMNS})
SELECT * FROM (
  SELECT a.id, s.recipient_kind, s.member_id, s.recipient_key, s.channel, s.address,
         'pending', 0, '', %(now)s, %(now)s, ''
    FROM a JOIN staff s ON s.reseller_id = a.reseller_id
   WHERE a.kind IN ('threshold', 'custom', 'status') OR (s.channel = 'inbox' AND a.kind <> 'credit')
  UNION ALL
{_customer_addressed(channel="email", column="email")}
  UNION ALL
{_customer_addressed(channel="sms", column="phone")}
  UNION ALL
  SELECT a.id, 'customer', NULL, 'customer', 'inbox', '',
         'pending', 0, '', %(now)s, %(now)s, ''
    FROM a JOIN customers_reseller r ON r.id = a.reseller_id
   WHERE a.kind IN ('threshold', 'status', 'credit') AND r.customer_alerts_enabled AND r.customer_alert_inbox
     AND a.alert_inbox AND a.wants_inbox
) AS recipients WHERE TRUE
RETURNING id
"""


def deliveries_create(cursor, *, alert_ids: list[int], now: datetime) -> list[int]:
    """Write the deliveries of these alerts (inside the evaluation's transaction); their ids."""
    if not alert_ids:
        return []
    cursor.execute(_DELIVERIES.format(ids=in_ids("al.id")), {"now": now, "ids": ids_param(alert_ids)})
    return [row[0] for row in cursor.fetchall()]


def deliveries_enqueue(delivery_ids: list[int], *, batch: bool) -> None:
    """Send these deliveries on a worker after commit: `batch`, in chunks of ENQUEUE_CHUNK (one
    SMTP session each), else one task each."""
    from .. import tasks

    if batch:
        for start in range(0, len(delivery_ids), ENQUEUE_CHUNK):
            chunk = delivery_ids[start : start + ENQUEUE_CHUNK]
            tasks.deliveries_send.delay_on_commit(chunk)
    else:
        for delivery_id in delivery_ids:
            tasks.delivery_send.delay_on_commit(delivery_id)


class DeliveryRetry(Exception):
    """A transient transport failure: try again in `countdown` seconds."""

    def __init__(self, countdown: int, message: str):
        super().__init__(message)
        self.countdown = countdown


def retry_countdown(attempts: int) -> int:
    """Exponential backoff with a cap: base, 2×base, 4×base, … up to DELIVERY_RETRY_BACKOFF_MAX."""
    return min(settings.DELIVERY_RETRY_BACKOFF * 2 ** max(attempts - 1, 0), settings.DELIVERY_RETRY_BACKOFF_MAX)


def _by_id_only(condition: Q) -> Case:
    """`condition` as a filter that no index of the deliveries can serve, for statements that find
    their rows by id: written as a CASE, which PostgreSQL's planner does not look into when it asks
    whether a partial index's predicate holds. delivery_unfinished (pending and sending) is a queue's
    index: VACUUM finds it empty between bursts and records 0 rows on its pages, and until the next
    VACUUM or ANALYZE the planner believes it empty however far a burst has grown it. A claim or a
    mark asking for "status = 'sending' AND id = …" then scanned every unfinished delivery instead of
    looking the id up: 30 ms a statement at 250,000 pending e-mails, a mark per e-mail (33 e-mails/s
    a worker). With the status inside the CASE, the primary key is the only index that applies."""
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _claimable(now: datetime) -> Q:
    stale = now - timedelta(seconds=settings.DELIVERY_STALE_AFTER)
    # A retry's task may arrive a moment before its next_attempt_at: allow a second of skew.
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now + timedelta(seconds=1)) | Q(
        status=Delivery.Status.SENDING, claimed_at__lt=stale, attempts__lt=settings.DELIVERY_MAX_ATTEMPTS
    )


def _mine(claimed_at: datetime) -> Case:
    """Still this claim's: sending, claimed at `claimed_at` (the claim's token)."""
    return _by_id_only(Q(status=Delivery.Status.SENDING, claimed_at=claimed_at))


def _claim(delivery_ids: list[int], now: datetime) -> list[Delivery]:
    """Claim the claimable ones among these deliveries with one conditional UPDATE (two workers
    never both win a row; `claimed_at` is the claim's token) and return them, ready to send."""
    claimed = (
        Delivery.objects.filter(pk__in=delivery_ids)
        .filter(_by_id_only(_claimable(now)))
        .update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    )
    if not claimed:
        return []
    return list(
        Delivery.objects.filter(_mine(now), pk__in=delivery_ids)
        .select_related("alert__customer", "alert__reseller", "alert__status_event", "member")
        .order_by("id")
    )


def _send_claimed(delivery: Delivery, *, send, now: datetime) -> str | None:
    """Hand a claimed delivery to its transport (`send()`: the transport's answer for it). Returns the
    provider's reference once the transport accepted it (the caller marks it sent), None after a
    permanent failure (marked failed here); raises DeliveryRetry after a transient one (marked
    pending with its next attempt time)."""
    try:
        return send() or ""
    except TransportError as exc:
        mine = Delivery.objects.filter(_mine(now), pk=delivery.pk)
        error = str(exc)[:ERROR_MAX]
        if exc.permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            if not exc.permanent:
                error = f"Gave up after {delivery.attempts} attempts: {error}"[:ERROR_MAX]
            mine.update(status=Delivery.Status.FAILED, last_error=error)
            logger.warning("delivery %s failed: %s", delivery.pk, error)
            return None
        countdown = retry_countdown(delivery.attempts)
        mine.update(
            status=Delivery.Status.PENDING, last_error=error, next_attempt_at=now + timedelta(seconds=countdown)
        )
        raise DeliveryRetry(countdown, error) from exc


_MARK_SENT = """
UPDATE notifications_delivery AS d SET status = 'sent', last_error = '', sent_at = v.sent_at, provider_ref = v.ref
  FROM unnest(%s::bigint[], %s::varchar[], %s::timestamptz[]) AS v(id, ref, sent_at)
 WHERE d.id = v.id AND CASE WHEN d.status = 'sending' AND d.claimed_at = %s THEN true ELSE false END
"""  # the CASE: _by_id_only


def _mark_sent(sent: list[tuple[int, str, datetime]], *, claimed_at: datetime) -> None:
    """Mark (id, provider reference, accepted at) deliveries sent with one UPDATE, each only while it
    is still this claim's (status "sending" with this claimed_at)."""
    if not sent:
        return
    ids = [pk for pk, _, _ in sent]
    references = [reference[:PROVIDER_REF_MAX] for _, reference, _ in sent]
    times = [at for _, _, at in sent]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_MARK_SENT, [ids, references, times, claimed_at])
        return
    Delivery.objects.filter(_mine(claimed_at), pk__in=ids).update(
        status=Delivery.Status.SENT, last_error="",
        sent_at=Case(*(When(pk=pk, then=Value(at)) for pk, at in zip(ids, times)), output_field=DateTimeField()),
        provider_ref=Case(
            *(When(pk=pk, then=Value(ref)) for pk, ref in zip(ids, references)), default=Value(""),
            output_field=CharField(),
        ),
    )


def delivery_attempt(*, delivery_id: int, transport=None, now: datetime | None = None) -> str:
    """Send one delivery once: claim it with a conditional UPDATE (so two workers never both send
    it), hand it to its transport, then record the outcome. Returns "sent", "failed" or "skipped"
    (not claimable: done, failed, or someone else's); raises DeliveryRetry after a transient error
    while attempts remain. A crash after the transport accepted it and before "sent" is recorded
    leaves it in "sending": the stuck sweep sends it again (repeat possible, loss not)."""
    now = now or timezone.now()
    claimed = _claim([delivery_id], now)
    if not claimed:
        return "skipped"
    delivery = claimed[0]
    transport = transport or transport_for(delivery.channel)
    reference = _send_claimed(delivery, send=lambda: transport.send(delivery), now=now)
    if reference is None:
        return "failed"
    _mark_sent([(delivery_id, reference, timezone.now())], claimed_at=now)
    return "sent"


def deliveries_attempt(*, delivery_ids: list[int], transport=None, now: datetime | None = None) -> tuple[dict, list]:
    """delivery_attempt for a chunk: one claim and one read for all of them, each handed to its
    transport, and the accepted ones marked sent MARK_SENT_EVERY at a time (one UPDATE, not a
    commit per message); the chunk's Message Center rows are one INSERT, committed with their mark.
    A batch transport (`submit(delivery)` returning an object with result(), as
    notifications.transports.email.batch_transport's) is given up to its `ahead` deliveries
    before the oldest one's result is asked for: with one SMTP session it only prepares them and
    sends each when asked (so one at a time is accepted, then marked); with several it sends one
    per session at once. Outcomes are recorded in the chunk's order.

    A crash between a transport's acceptance and the mark leaves those deliveries in "sending" (at
    most MARK_SENT_EVERY plus those in flight), and the stuck sweep sends them again: a message
    may repeat, none is lost. Returns (outcome counts, [(delivery id, retry countdown)])."""
    now = now or timezone.now()
    claimed = _claim(delivery_ids, now)
    outcomes = {"skipped": len(set(delivery_ids)) - len(claimed)}
    retries = []
    sent: list[tuple[int, str, datetime]] = []
    submit = getattr(transport, "submit", None)
    inbox = [d for d in claimed if d.channel == Delivery.Channel.INBOX] if transport is None or submit else []
    if inbox:
        # The Message Center is rows in this database: written in one INSERT, in the transaction
        # that marks their deliveries sent, so each is there exactly once whatever the worker does.
        with transaction.atomic():
            references = transport_for(Delivery.Channel.INBOX).send_many(inbox)
            _mark_sent([(d.pk, references[d.pk], timezone.now()) for d in inbox], claimed_at=now)
        outcomes["sent"] = len(inbox)
        claimed = [d for d in claimed if d.channel != Delivery.Channel.INBOX]
    window = getattr(transport, "ahead", getattr(transport, "sessions", 1)) if submit else 1
    inflight: deque = deque()

    def settle() -> None:
        nonlocal sent
        delivery, send = inflight.popleft()
        try:
            reference = _send_claimed(delivery, send=send, now=now)
        except DeliveryRetry as retry:
            outcome = "retry"
            retries.append((delivery.pk, retry.countdown))
        else:
            if reference is None:
                outcome = "failed"
            else:
                outcome = "sent"
                sent.append((delivery.pk, reference, timezone.now()))
                if len(sent) >= MARK_SENT_EVERY:
                    _mark_sent(sent, claimed_at=now)
                    sent = []
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    try:
        for delivery in claimed:
            if submit:
                inflight.append((delivery, submit(delivery).result))
            else:
                own = transport or transport_for(delivery.channel)
                inflight.append((delivery, partial(own.send, delivery)))
            while len(inflight) >= window:
                settle()
        while inflight:
            settle()
    finally:
        # Also when a transport raised something unexpected: what it accepted is recorded.
        _mark_sent(sent, claimed_at=now)
    return outcomes, retries


def deliveries_stuck(*, now: datetime | None = None, limit: int = 10_000) -> list[int]:
    """Deliveries a worker should be sending but is not: pending past their time (their task was
    lost) or left in "sending" by a worker that died. Stale ones out of attempts are marked failed."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.DELIVERY_STALE_AFTER)
    Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=stale, attempts__gte=settings.DELIVERY_MAX_ATTEMPTS
    ).update(status=Delivery.Status.FAILED, last_error="Gave up: the worker sending it stopped on the last attempt.")
    return list(
        Delivery.objects.filter(
            Q(status=Delivery.Status.PENDING, next_attempt_at__lt=now - PENDING_GRACE)
            | Q(status=Delivery.Status.SENDING, claimed_at__lt=stale)
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def delivery_retry(*, delivery: Delivery) -> bool:
    """Give a failed delivery a fresh set of attempts (admin action); enqueued after commit."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_at=None
        )
        if updated:
            deliveries_enqueue([delivery.pk], batch=False)
    return bool(updated)
