"""Usage alerts (DESIGN §3): threshold evaluation per customer and by the periodic sweep, the
delivery outbox, the Message Center and the notification settings.

Invariants, each backed by a UNIQUE constraint so that racing evaluations cannot break them:
at most one alert per (customer, kind, threshold, day in the reseller's time zone); one delivery
per (alert, recipient, channel) and per (alert, channel, address); a delivery is marked sent only
after its transport accepted it.
"""

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import InvalidValue, NotFound, NotPermitted
from core.timezones import reseller_zone
from customers.models import Customer, Member, Reseller

from .models import Alert, Delivery, Message
from .transports import TransportError, transport_for

logger = logging.getLogger(__name__)

# A pending delivery older than this has lost its queued task (broker restart, crash between
# commit and publish): the stuck-delivery sweep enqueues it again.
PENDING_GRACE = timedelta(seconds=60)
# Deliveries per task when the sweep enqueues them (fewer broker round trips).
ENQUEUE_CHUNK = 500


# --- evaluation ------------------------------------------------------------------------------


def reseller_day(time_zone: str, now: datetime) -> date:
    """The calendar day of `now` in the reseller's time zone (the unit of "once a day")."""
    return now.astimezone(reseller_zone(time_zone)).date()


def _in_ids(column: str, name: str = "ids") -> str:
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%({name})s)"
    return f"{column} IN (SELECT value FROM json_each(%({name})s))"


def _ids_param(ids) -> object:
    ids = [int(i) for i in ids]
    return ids if connection.vendor == "postgresql" else json.dumps(ids)


_ALERT_COLUMNS = "reseller_id, customer_id, kind, threshold, day, covered, reminder, credit, used, available, created_at"

# Every default threshold the customer's stored usage band reaches; the highest one is sent and
# the lower ones are recorded as covered. ON CONFLICT keeps "one a day" when evaluations race, and
# makes a repeated sweep on the same day a no-op. A reminder is an alert whose customer was already
# alerted for that threshold yesterday and not re-armed since (the sweep runs every day). Lookups
# into notifications_alert are equalities on its unique key, so no plan degrades as it grows.
_THRESHOLD_ALERTS = f"""
INSERT INTO notifications_alert ({_ALERT_COLUMNS})
SELECT c.reseller_id, c.id, 'threshold', t.threshold, %(day)s, t.threshold < c.usage_band,
       EXISTS (SELECT 1 FROM notifications_alert p
               WHERE p.customer_id = c.id AND p.kind = 'threshold' AND p.threshold = t.threshold
                 AND p.day = %(yesterday)s AND p.rearmed_at IS NULL),
       c.credit, c.used, c.available, %(now)s
FROM customers_customer c
JOIN (SELECT 75 AS threshold UNION ALL SELECT 90 UNION ALL SELECT 100) t ON t.threshold <= c.usage_band
WHERE {{ids}} AND c.reseller_id = %(reseller)s AND c.usage_band > 0
ON CONFLICT DO NOTHING
RETURNING id, covered
"""

# Custom balance warning: available below the customer's percent of its credit.
_CUSTOM_ALERTS = f"""
INSERT INTO notifications_alert ({_ALERT_COLUMNS})
SELECT c.reseller_id, c.id, 'custom', c.custom_warning_percent, %(day)s, FALSE,
       EXISTS (SELECT 1 FROM notifications_alert p
               WHERE p.customer_id = c.id AND p.kind = 'custom' AND p.threshold = c.custom_warning_percent
                 AND p.day = %(yesterday)s AND p.rearmed_at IS NULL),
       c.credit, c.used, c.available, %(now)s
FROM customers_customer c
WHERE {{ids}} AND c.reseller_id = %(reseller)s AND c.custom_warning_percent IS NOT NULL
  AND c.available * 100 < c.custom_warning_percent * c.credit
ON CONFLICT DO NOTHING
RETURNING id, covered
"""

# An open alert (threshold or custom, not re-armed) its customer `c` is still above; every other
# open alert of `c` is re-armed. `{a}` names the alert.
_STILL_ABOVE_THRESHOLD = "c.usage_band >= {a}.threshold"
_STILL_ABOVE_CUSTOM = "c.custom_warning_percent IS NOT NULL AND c.available * 100 < {a}.threshold * c.credit"
# alert_open's condition, written as the index is, so that the planner may use it.
_OPEN = "{a}.rearmed_at IS NULL AND {a}.kind IN ('threshold', 'custom')"

# Open alerts the customer is back under (an allocation raised its credit or a repayment lowered
# its usage), through the partial index of open alerts (alert_open). {candidates}{scope} choose the
# customers: a batch of ids (their evaluation) or _REARMABLE (the sweep).
_REARM = f"""
{{candidates}}UPDATE notifications_alert SET rearmed_at = %(now)s
FROM customers_customer c
WHERE {{scope}} AND notifications_alert.reseller_id = %(reseller)s AND c.reseller_id = %(reseller)s
  AND notifications_alert.customer_id = c.id AND {_OPEN.format(a="notifications_alert")}
  AND NOT ((notifications_alert.kind = 'threshold' AND {_STILL_ABOVE_THRESHOLD.format(a="notifications_alert")})
        OR (notifications_alert.kind = 'custom' AND {_STILL_ABOVE_CUSTOM.format(a="notifications_alert")}))
RETURNING notifications_alert.customer_id, notifications_alert.kind, notifications_alert.threshold
"""

# The sweep's customers with an open alert they are back under. It starts from the open alerts: a
# customer back under every threshold is no longer among the customers the sweep walks. Each
# customer with open alerts is visited once (a skip scan of alert_open, one index descent per
# customer however many days of alerts it holds), and each test is one more descent: an open
# threshold above its usage band, or an open custom warning it is back above.
_REARMABLE = f"""
WITH RECURSIVE open_customer(id) AS (
    SELECT min(a.customer_id) FROM notifications_alert a WHERE a.reseller_id = %(reseller)s AND {_OPEN.format(a="a")}
  UNION ALL
    SELECT (SELECT min(a.customer_id) FROM notifications_alert a
             WHERE a.reseller_id = %(reseller)s AND {_OPEN.format(a="a")} AND a.customer_id > o.id)
      FROM open_customer o WHERE o.id IS NOT NULL
), rearmable(id) AS (
    SELECT c.id FROM open_customer o JOIN customers_customer c ON c.id = o.id
     WHERE EXISTS (SELECT 1 FROM notifications_alert a
                    WHERE a.reseller_id = %(reseller)s AND a.customer_id = c.id AND {_OPEN.format(a="a")}
                      AND a.kind = 'threshold' AND NOT ({_STILL_ABOVE_THRESHOLD.format(a="a")}))
        OR EXISTS (SELECT 1 FROM notifications_alert a
                    WHERE a.reseller_id = %(reseller)s AND a.customer_id = c.id AND {_OPEN.format(a="a")}
                      AND a.kind = 'custom' AND NOT ({_STILL_ABOVE_CUSTOM.format(a="a")}))
)
"""

# The re-arm notices, one per customer naming the lowest threshold it is back under; the
# (customer, threshold) pairs come as one JSON parameter.
_REARMED_ALERTS = f"""
INSERT INTO notifications_alert ({_ALERT_COLUMNS})
SELECT c.reseller_id, c.id, 'rearmed', p.threshold, %(day)s, FALSE, FALSE, c.credit, c.used, c.available, %(now)s
FROM customers_customer c JOIN ({{pairs}}) p ON p.customer_id = c.id
ON CONFLICT DO NOTHING
RETURNING id, covered
"""


def _pairs_table(name: str) -> str:
    if connection.vendor == "postgresql":
        return (
            "SELECT CAST(e->>0 AS BIGINT) AS customer_id, CAST(e->>1 AS INTEGER) AS threshold "
            f"FROM jsonb_array_elements(CAST(%({name})s AS JSONB)) AS e"
        )
    return (
        "SELECT CAST(json_extract(value, '$[0]') AS INTEGER) AS customer_id, "
        f"CAST(json_extract(value, '$[1]') AS INTEGER) AS threshold FROM json_each(%({name})s)"
    )


_DELIVERY_COLUMNS = (
    "alert_id, recipient_kind, member_id, recipient_key, channel, address, "
    "status, attempts, last_error, created_at, next_attempt_at, provider_ref"
)
# Who gets what (DESIGN §3): the reseller's contact address and phone, its members on the channels
# they chose, and the customer unless the reseller switched customer alerts off. Custom warnings go
# to the reseller only; re-arm notices to the members' Message Center only.
# One address gets one message per alert, whoever it belongs to: of the recipients sharing an
# e-mail address (compared trimmed and case-insensitively) or a phone number, the contact keeps the
# delivery, else the member with the lowest id, else the customer. The reseller's side is settled
# once per reseller (`staff`, a few rows each), so the alerts need no sort; the unique index
# delivery_once_per_address backs the rule (ON CONFLICT DO NOTHING when evaluations race).
# Message Center deliveries are one per inbox, never merged.
_MEMBER_KEY = "'member:' || CAST(m.id AS VARCHAR(20))"
_ADDRESS_KEY = "LOWER(TRIM({address}))"
_DELIVERIES = f"""
WITH a AS MATERIALIZED (SELECT id, reseller_id, customer_id, kind FROM notifications_alert WHERE {{ids}}),
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
   WHERE a.kind IN ('threshold', 'custom') OR s.channel = 'inbox'
  UNION ALL
  SELECT a.id, 'customer', NULL, 'customer', 'email', c.email,
         'pending', 0, '', %(now)s, %(now)s, ''
    FROM a JOIN customers_reseller r ON r.id = a.reseller_id
    JOIN customers_customer c ON c.id = a.customer_id
   WHERE a.kind = 'threshold' AND r.customer_alerts_enabled AND r.customer_alert_email AND c.alert_email
     AND c.email <> ''
     AND NOT EXISTS (SELECT 1 FROM staff s WHERE s.reseller_id = a.reseller_id AND s.channel = 'email'
                        AND {_ADDRESS_KEY.format(address="s.address")} = {_ADDRESS_KEY.format(address="c.email")})
  UNION ALL
  SELECT a.id, 'customer', NULL, 'customer', 'sms', c.phone,
         'pending', 0, '', %(now)s, %(now)s, ''
    FROM a JOIN customers_reseller r ON r.id = a.reseller_id
    JOIN customers_customer c ON c.id = a.customer_id
   WHERE a.kind = 'threshold' AND r.customer_alerts_enabled AND r.customer_alert_sms AND c.alert_sms
     AND c.phone <> ''
     AND NOT EXISTS (SELECT 1 FROM staff s WHERE s.reseller_id = a.reseller_id AND s.channel = 'sms'
                        AND {_ADDRESS_KEY.format(address="s.address")} = {_ADDRESS_KEY.format(address="c.phone")})
  UNION ALL
  SELECT a.id, 'customer', NULL, 'customer', 'inbox', '',
         'pending', 0, '', %(now)s, %(now)s, ''
    FROM a JOIN customers_reseller r ON r.id = a.reseller_id
    JOIN customers_customer c ON c.id = a.customer_id
   WHERE a.kind = 'threshold' AND r.customer_alerts_enabled AND r.customer_alert_inbox AND c.alert_inbox
) AS recipients WHERE TRUE
ON CONFLICT DO NOTHING
RETURNING id
"""


@dataclass
class Evaluation:
    alerts: int = 0
    deliveries: list[int] | None = None
    rearmed: int = 0

    def __post_init__(self):
        if self.deliveries is None:
            self.deliveries = []


def _evaluate(
    *, reseller_id: int, time_zone: str, customer_ids: list[int], now: datetime, rearm: bool = True
) -> Evaluation:
    """Alerts and their deliveries for these customers of one reseller; run inside a transaction.
    `rearm=False` (the sweep's batches) skips re-arming: the sweep re-arms in one pass over the
    open alerts instead (_sweep_rearm), which also reaches customers that can no longer alert."""
    day = reseller_day(time_zone, now)
    params = {
        "day": day, "yesterday": day - timedelta(days=1), "now": now, "reseller": reseller_id,
        "ids": _ids_param(customer_ids),
    }
    result = Evaluation()
    to_deliver: list[int] = []
    with connection.cursor() as cursor:
        if rearm:
            result.rearmed, to_deliver = _rearm(cursor, candidates="", scope=_in_ids("c.id"), params=params)
        for statement in (_THRESHOLD_ALERTS, _CUSTOM_ALERTS):
            cursor.execute(statement.format(ids=_in_ids("c.id")), params)
            rows = cursor.fetchall()
            result.alerts += len(rows)
            to_deliver += [alert_id for alert_id, covered in rows if not covered]
        result.deliveries = _deliveries_create(cursor, alert_ids=to_deliver, now=now)
    return result


def _rearm(cursor, *, candidates: str, scope: str, params: dict) -> tuple[int, list[int]]:
    """Re-arm the open alerts in `scope` whose customer is back under them and write the notices.
    Returns (alerts re-armed, ids of the new notices)."""
    cursor.execute(_REARM.format(candidates=candidates, scope=scope), params)
    rows = cursor.fetchall()
    lowest: dict[int, int] = {}
    for customer_id, kind, threshold in rows:
        if kind == Alert.Kind.THRESHOLD:
            # One notice naming the lowest threshold it is back under (so under all above it).
            lowest[customer_id] = min(threshold, lowest.get(customer_id, threshold))
    if not lowest:
        return len(rows), []
    cursor.execute(
        _REARMED_ALERTS.format(pairs=_pairs_table("pairs")), {**params, "pairs": json.dumps(sorted(lowest.items()))}
    )
    return len(rows), [alert_id for alert_id, _ in cursor.fetchall()]


def _deliveries_create(cursor, *, alert_ids: list[int], now: datetime) -> list[int]:
    if not alert_ids:
        return []
    cursor.execute(_DELIVERIES.format(ids=_in_ids("id")), {"now": now, "ids": _ids_param(alert_ids)})
    return [row[0] for row in cursor.fetchall()]


def _sweep_rearm(*, reseller_id: int, time_zone: str, now: datetime) -> Evaluation:
    """The sweep's re-arm: every open alert of the reseller whose customer is back under it, found
    from the open alerts (a customer back under every threshold is no longer among the customers
    the sweep walks). Catches up a re-arm whose evaluation never ran (broker down at commit)."""
    params = {"day": reseller_day(time_zone, now), "now": now, "reseller": reseller_id}
    result = Evaluation()
    with transaction.atomic(), connection.cursor() as cursor:
        result.rearmed, notices = _rearm(
            cursor, candidates=_REARMABLE, scope="c.id IN (SELECT id FROM rearmable)", params=params
        )
        result.alerts = len(notices)
        result.deliveries = _deliveries_create(cursor, alert_ids=notices, now=now)
        if result.deliveries:
            _enqueue_deliveries(result.deliveries, batch=True)
    return result


def customer_alerts_evaluate(*, customer_id: int, now: datetime | None = None) -> Evaluation:
    """Evaluate one customer's thresholds now (after a usage charge, an allocation or a repayment);
    the new deliveries are enqueued after commit as one deliveries_send task (one SMTP session)."""
    now = now or timezone.now()
    row = (
        Customer.objects.filter(pk=customer_id)
        .values_list("reseller_id", "reseller__time_zone")
        .first()
    )
    if row is None:
        return Evaluation()
    reseller_id, time_zone = row
    with transaction.atomic():
        result = _evaluate(reseller_id=reseller_id, time_zone=time_zone, customer_ids=[customer_id], now=now)
        if result.deliveries:
            _enqueue_deliveries(result.deliveries, batch=True)
    return result


@dataclass
class SweepResult:
    customers: int = 0
    alerts: int = 0
    deliveries: int = 0
    batches: int = 0
    rearmed: int = 0


def alerts_sweep(*, now: datetime | None = None, reseller_ids: list[int] | None = None, batch_size: int | None = None) -> SweepResult:
    """The periodic sweep over all customers (and the daily reminder: a customer still above a
    threshold gets that day's alert on the first sweep of a new day). First re-arms, per reseller,
    the open alerts whose customer is back under them (one statement through the partial index of
    open alerts), then walks only customers that can alert, in keyset batches through a partial
    index, each batch one transaction of set-based SQL; Python holds one batch of ids at a time."""
    now = now or timezone.now()
    batch_size = batch_size or settings.ALERT_SWEEP_BATCH
    result = SweepResult()
    resellers = Reseller.objects.order_by("id").values_list("id", "time_zone")
    if reseller_ids is not None:
        resellers = resellers.filter(id__in=reseller_ids)
    for reseller_id, time_zone in resellers:
        rearm = _sweep_rearm(reseller_id=reseller_id, time_zone=time_zone, now=now)
        result.rearmed += rearm.rearmed
        result.alerts += rearm.alerts
        result.deliveries += len(rearm.deliveries)
        last_id = 0
        while True:
            ids = list(
                Customer.objects.filter(reseller_id=reseller_id, id__gt=last_id)
                .filter(Q(usage_band__gt=0) | Q(custom_warning_percent__isnull=False))
                .order_by("id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                break
            last_id = ids[-1]
            with transaction.atomic():
                batch = _evaluate(reseller_id=reseller_id, time_zone=time_zone, customer_ids=ids, now=now, rearm=False)
                if batch.deliveries:
                    _enqueue_deliveries(batch.deliveries, batch=True)
            result.customers += len(ids)
            result.alerts += batch.alerts
            result.deliveries += len(batch.deliveries)
            result.batches += 1
    return result


def _enqueue_deliveries(delivery_ids: list[int], *, batch: bool) -> None:
    from . import tasks

    if batch:
        for start in range(0, len(delivery_ids), ENQUEUE_CHUNK):
            chunk = delivery_ids[start : start + ENQUEUE_CHUNK]
            tasks.deliveries_send.delay_on_commit(chunk)
    else:
        for delivery_id in delivery_ids:
            tasks.delivery_send.delay_on_commit(delivery_id)


# --- delivery --------------------------------------------------------------------------------


class DeliveryRetry(Exception):
    """A transient transport failure: try again in `countdown` seconds."""

    def __init__(self, countdown: int, message: str):
        super().__init__(message)
        self.countdown = countdown


def retry_countdown(attempts: int) -> int:
    """Exponential backoff with a cap: base, 2×base, 4×base, … up to DELIVERY_RETRY_BACKOFF_MAX."""
    return min(settings.DELIVERY_RETRY_BACKOFF * 2 ** max(attempts - 1, 0), settings.DELIVERY_RETRY_BACKOFF_MAX)


def _claimable(now: datetime) -> Q:
    stale = now - timedelta(seconds=settings.DELIVERY_STALE_AFTER)
    # A retry's task may arrive a moment before its next_attempt_at: allow a second of skew.
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now + timedelta(seconds=1)) | Q(
        status=Delivery.Status.SENDING, claimed_at__lt=stale, attempts__lt=settings.DELIVERY_MAX_ATTEMPTS
    )


def _claim(delivery_ids: list[int], now: datetime) -> list[Delivery]:
    """Claim the claimable ones among these deliveries with one conditional UPDATE (two workers
    never both win a row; `claimed_at` is the claim's token) and return them, ready to send."""
    claimed = (
        Delivery.objects.filter(pk__in=delivery_ids)
        .filter(_claimable(now))
        .update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    )
    if not claimed:
        return []
    return list(
        Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.SENDING, claimed_at=now)
        .select_related("alert__customer", "alert__reseller")
        .order_by("id")
    )


def _send_claimed(delivery: Delivery, *, transport, now: datetime) -> str:
    mine = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, claimed_at=now)
    transport = transport or transport_for(delivery.channel)
    try:
        reference = transport.send(delivery)
    except TransportError as exc:
        error = str(exc)[:500]
        if exc.permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            if not exc.permanent:
                error = f"Gave up after {delivery.attempts} attempts: {error}"[:500]
            mine.update(status=Delivery.Status.FAILED, last_error=error)
            logger.warning("delivery %s failed: %s", delivery.pk, error)
            return "failed"
        countdown = retry_countdown(delivery.attempts)
        mine.update(
            status=Delivery.Status.PENDING, last_error=error, next_attempt_at=now + timedelta(seconds=countdown)
        )
        raise DeliveryRetry(countdown, error) from exc
    # Marked one by one, right after the transport accepted it: a crash repeats at most this one.
    mine.update(status=Delivery.Status.SENT, sent_at=timezone.now(), provider_ref=(reference or "")[:128], last_error="")
    return "sent"


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
    return _send_claimed(claimed[0], transport=transport, now=now)


def deliveries_attempt(*, delivery_ids: list[int], transport=None, now: datetime | None = None) -> tuple[dict, list]:
    """delivery_attempt for a chunk: one claim and one read for all of them, then each sent and
    recorded on its own. Returns (outcome counts, [(delivery id, retry countdown)])."""
    now = now or timezone.now()
    claimed = _claim(delivery_ids, now)
    outcomes = {"skipped": len(set(delivery_ids)) - len(claimed)}
    retries = []
    for delivery in claimed:
        try:
            outcome = _send_claimed(delivery, transport=transport, now=now)
        except DeliveryRetry as retry:
            outcome = "retry"
            retries.append((delivery.pk, retry.countdown))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
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
            _enqueue_deliveries([delivery.pk], batch=False)
    return bool(updated)


# --- Message Center --------------------------------------------------------------------------


def message_mark_read(*, member: Member, message_id: int) -> Message:
    """Mark one of the member's own messages read (another inbox's message is not found)."""
    message = Message.objects.filter(pk=message_id, member=member).first()
    if message is None:
        raise NotFound("This message is not in your Message Center.")
    if message.read_at is None:
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=timezone.now())
        message.refresh_from_db(fields=["read_at"])
    return message


def messages_mark_all_read(*, member: Member) -> int:
    return Message.objects.filter(member=member, read_at__isnull=True).update(read_at=timezone.now())


# --- settings and custom warning -------------------------------------------------------------


def _require_writer(member: Member) -> None:
    if member.role == Member.Role.VIEWER:
        raise NotPermitted("Read-only members cannot change this.")


def reseller_alert_settings_update(
    *,
    member: Member,
    contact_email: str,
    contact_phone: str,
    contact_alert_email: bool,
    contact_alert_sms: bool,
    customer_alerts_enabled: bool,
    customer_alert_email: bool,
    customer_alert_sms: bool,
    customer_alert_inbox: bool,
) -> Reseller:
    """Reseller-wide alert settings: admins only."""
    if member.role != Member.Role.ADMIN:
        raise NotPermitted("Only an admin of your account can change the reseller-wide alert settings.")
    contact_phone = (contact_phone or "").strip()
    if contact_phone and not _phone_ok(contact_phone):
        raise InvalidValue("Enter the phone number in international form, such as +6580001111.", field="contact_phone")
    fields = {
        "contact_email": (contact_email or "").strip(),
        "contact_phone": contact_phone,
        "contact_alert_email": bool(contact_alert_email),
        "contact_alert_sms": bool(contact_alert_sms),
        "customer_alerts_enabled": bool(customer_alerts_enabled),
        "customer_alert_email": bool(customer_alert_email),
        "customer_alert_sms": bool(customer_alert_sms),
        "customer_alert_inbox": bool(customer_alert_inbox),
    }
    Reseller.objects.filter(pk=member.reseller_id).update(**fields)
    reseller = member.reseller
    for name, value in fields.items():
        setattr(reseller, name, value)
    return reseller


def _phone_ok(phone: str) -> bool:
    digits = phone[1:] if phone.startswith("+") else phone
    return phone.startswith("+") and digits.isdigit() and 6 <= len(digits) <= 15


def member_alert_channels_update(
    *, actor: Member, member: Member, phone: str, alert_email: bool, alert_sms: bool, alert_inbox: bool
) -> Member:
    """A member changes their own channels; an admin may change any member of the same reseller."""
    if member.reseller_id != actor.reseller_id:
        raise NotFound("This member is not in your account.")
    if member.pk != actor.pk and actor.role != Member.Role.ADMIN:
        raise NotPermitted("Only an admin can change another member's alert channels.")
    phone = (phone or "").strip()
    if phone and not _phone_ok(phone):
        raise InvalidValue("Enter the phone number in international form, such as +6580001111.", field="phone")
    if alert_sms and not phone:
        raise InvalidValue("Enter a phone number to receive SMS alerts.", field="phone")
    fields = {"phone": phone, "alert_email": bool(alert_email), "alert_sms": bool(alert_sms), "alert_inbox": bool(alert_inbox)}
    Member.objects.filter(pk=member.pk).update(**fields)
    for name, value in fields.items():
        setattr(member, name, value)
    return member


def customer_alert_channels_update(
    *, member: Member, customer: Customer, alert_email: bool, alert_sms: bool, alert_inbox: bool
) -> Customer:
    """Switch the customer's own alert channels on or off (operators and admins). A channel the
    customer has no address for stays unused whatever its switch says."""
    _require_writer(member)
    if customer.reseller_id != member.reseller_id:
        raise NotFound("This customer does not exist or is not bound to your account.", code="UnauthorizedOperation.UinNoAuth")
    fields = {"alert_email": bool(alert_email), "alert_sms": bool(alert_sms), "alert_inbox": bool(alert_inbox)}
    Customer.objects.filter(pk=customer.pk).update(**fields)
    for name, value in fields.items():
        setattr(customer, name, value)
    return customer


def custom_warning_set(*, member: Member, customer: Customer, percent: int | None) -> Customer:
    """Set (0–100, % of credit that must stay available) or clear (None) the customer's custom
    balance warning, then evaluate the customer after commit. The CHECK constraint backs 0–100."""
    _require_writer(member)
    if customer.reseller_id != member.reseller_id:
        raise NotFound("This customer does not exist or is not bound to your account.", code="UnauthorizedOperation.UinNoAuth")
    if percent is not None:
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise InvalidValue("The custom warning is a whole percentage from 0 to 100.", field="percent")
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(custom_warning_percent=percent)
        from . import tasks

        tasks.customer_evaluate.delay_on_commit(customer.pk)
    customer.custom_warning_percent = percent
    return customer
