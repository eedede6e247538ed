"""Threshold evaluation (DESIGN §3): per customer when its credit or usage changes, and by the
periodic sweep over all customers. Set-based SQL; the alerts' deliveries are written in the same
transaction (outbox) and enqueued after commit.

At most one alert per (customer, kind, threshold, day in the reseller's time zone), backed by the
UNIQUE constraint alert_once_per_day, so that racing evaluations cannot break it."""

import json
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.rules import THRESHOLDS
from core.timezones import reseller_zone
from customers.models import Customer, CustomerBalance, Reseller

from ..models import Alert
from .outbox import deliveries_create, deliveries_enqueue
from .sql import ids_param, in_ids


def reseller_day(time_zone: str, now: datetime) -> date:
    """The calendar day of `now` in the reseller's time zone (the unit of "once a day")."""
    return now.astimezone(reseller_zone(time_zone)).date()


def customer_evaluation_enqueue(customer_id: int) -> None:
    """Evaluate the customer on a worker once the current transaction commits: every write that can
    cross or re-arm a threshold (usage, allocation, repayment, custom warning) calls this. If the
    broker is down the enqueue is logged, not raised (partnercenter.celery.Task), and the periodic
    sweep evaluates the customer instead."""
    from .. import tasks

    tasks.customer_evaluate.delay_on_commit(customer_id)


def customers_evaluation_enqueue(customer_ids: list[int]) -> None:
    """One task for a batch's customers (a usage batch touches up to thousands of them): evaluate
    them all once the current transaction commits. One customer goes as customer_evaluate, the
    task every single write enqueues. A failed enqueue is logged and the sweep catches up, as for
    customer_evaluation_enqueue."""
    from .. import tasks

    ids = sorted({int(customer_id) for customer_id in customer_ids})
    if len(ids) == 1:
        tasks.customer_evaluate.delay_on_commit(ids[0])
    elif ids:
        tasks.customers_evaluate.delay_on_commit(ids)

# A customer with its balance, as one row `c` (the balance has its own table; the planner flattens
# this into a join on the balance's primary key). `balance_id` is the same id read from the balance
# side: a condition on c.id alone does not reach the balance table (the planner propagates
# equalities, not `= ANY`), so a statement that filters balances too names both.
_CUSTOMER = (
    "(SELECT cu.id, b.customer_id AS balance_id, cu.reseller_id, cu.custom_warning_percent, "
    "cu.credit_notification_percent, b.credit, b.used, b.available, b.usage_band "
    "FROM customers_customer cu JOIN customers_customerbalance b ON b.customer_id = cu.id)"
)

# The default thresholds (core.rules.THRESHOLDS) as a table of one column.
_THRESHOLDS_TABLE = " UNION ALL ".join(f"SELECT {int(t)} AS threshold" for t in THRESHOLDS)
_ALERT_COLUMNS = "reseller_id, customer_id, kind, threshold, day, covered, reminder, credit, used, available, created_at"
# The one conflict an alert INSERT can meet: alert_once_per_day (customer, kind, threshold, day),
# named as its arbiter, its condition written as the index's. With a bare ON CONFLICT every unique
# index is an arbiter, each probed before every row (the primary key, which the identity fills,
# and the status event's, NULL for these kinds, can never conflict): about a fifth of the INSERT.
_ONCE_A_DAY = "ON CONFLICT (customer_id, kind, threshold, day) WHERE NOT (kind = 'status') DO NOTHING"

# Every default threshold the customer's stored usage band reaches; the highest one is sent and
# the lower ones are recorded as covered. ON CONFLICT keeps "one a day" when evaluations race, and
# makes a repeated sweep on the same day a no-op. A reminder is an alert whose customer was already
# alerted for that threshold yesterday and not re-armed since (the sweep runs every day). Lookups
# into notifications_alert are equalities on its unique key, so no plan degrades as it grows.
# The batch's ids restrict both the customers and their balances ({ids} and {balance_ids}): with
# only the customers', the planner read every balance past a threshold (the partial index
# balance_alertable, all of the reseller's) for each sweep batch and hashed them.
_THRESHOLD_ALERTS = f"""
INSERT INTO notifications_alert ({_ALERT_COLUMNS})
SELECT c.reseller_id, c.id, 'threshold', t.threshold, %(day)s, t.threshold < c.usage_band,
       EXISTS (SELECT 1 FROM notifications_alert p
               WHERE p.customer_id = c.id AND p.kind = 'threshold' AND p.threshold = t.threshold
                 AND p.day = %(yesterday)s AND p.rearmed_at IS NULL),
       c.credit, c.used, c.available, %(now)s
FROM {_CUSTOMER} c
JOIN ({_THRESHOLDS_TABLE}) t ON t.threshold <= c.usage_band
WHERE {{ids}} AND {{balance_ids}} AND c.reseller_id = %(reseller)s AND c.usage_band > 0
{_ONCE_A_DAY}
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
FROM {_CUSTOMER} c
WHERE {{ids}} AND c.reseller_id = %(reseller)s AND c.custom_warning_percent IS NOT NULL
  AND c.available * 100 < c.custom_warning_percent * c.credit
{_ONCE_A_DAY}
RETURNING id, covered
"""

# The customer's own credit notification: available below its percent of its credit, to the
# customer alone; once a day (the alert's unique key), never re-armed (not an open alert).
_CREDIT_ALERTS = f"""
INSERT INTO notifications_alert ({_ALERT_COLUMNS})
SELECT c.reseller_id, c.id, 'credit', c.credit_notification_percent, %(day)s, FALSE,
       EXISTS (SELECT 1 FROM notifications_alert p
               WHERE p.customer_id = c.id AND p.kind = 'credit' AND p.threshold = c.credit_notification_percent
                 AND p.day = %(yesterday)s),
       c.credit, c.used, c.available, %(now)s
FROM {_CUSTOMER} c
WHERE {{ids}} AND c.reseller_id = %(reseller)s AND c.credit_notification_percent IS NOT NULL
  AND c.available * 100 < c.credit_notification_percent * c.credit
{_ONCE_A_DAY}
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
FROM {_CUSTOMER} c
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
    SELECT c.id FROM open_customer o JOIN {_CUSTOMER} c ON c.id = o.id
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
FROM {_CUSTOMER} c JOIN ({{pairs}}) p ON p.customer_id = c.id
{_ONCE_A_DAY}
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
        "ids": ids_param(customer_ids),
    }
    result = Evaluation()
    to_deliver: list[int] = []
    with connection.cursor() as cursor:
        if rearm:
            result.rearmed, to_deliver = _rearm(cursor, candidates="", scope=in_ids("c.id"), params=params)
        for statement in (_THRESHOLD_ALERTS, _CUSTOM_ALERTS, _CREDIT_ALERTS):
            cursor.execute(statement.format(ids=in_ids("c.id"), balance_ids=in_ids("c.balance_id")), params)
            rows = cursor.fetchall()
            result.alerts += len(rows)
            to_deliver += [alert_id for alert_id, covered in rows if not covered]
        result.deliveries = deliveries_create(cursor, alert_ids=to_deliver, now=now)
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
        result.deliveries = deliveries_create(cursor, alert_ids=notices, now=now)
        if result.deliveries:
            deliveries_enqueue(result.deliveries, batch=True)
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
            deliveries_enqueue(result.deliveries, batch=True)
    return result


def customers_alerts_evaluate(*, customer_ids: list[int], now: datetime | None = None) -> Evaluation:
    """Evaluate a batch of customers now, each exactly as customer_alerts_evaluate would (the same
    statements, re-arming included, run over the batch's ids), one transaction per reseller; the
    new deliveries are enqueued after commit in chunks of one SMTP session each."""
    now = now or timezone.now()
    total = Evaluation()
    by_reseller: dict[tuple[int, str], list[int]] = {}
    ids = sorted({int(customer_id) for customer_id in customer_ids})
    for start in range(0, len(ids), settings.ALERT_SWEEP_BATCH):
        rows = Customer.objects.filter(pk__in=ids[start : start + settings.ALERT_SWEEP_BATCH]).values_list(
            "id", "reseller_id", "reseller__time_zone"
        )
        for customer_id, reseller_id, time_zone in rows:
            by_reseller.setdefault((reseller_id, time_zone), []).append(customer_id)
    for (reseller_id, time_zone), reseller_customers in sorted(by_reseller.items()):
        with transaction.atomic():
            result = _evaluate(
                reseller_id=reseller_id, time_zone=time_zone, customer_ids=sorted(reseller_customers), now=now
            )
            if result.deliveries:
                deliveries_enqueue(result.deliveries, batch=True)
        total.alerts += result.alerts
        total.rearmed += result.rearmed
        total.deliveries += result.deliveries
    return total


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
    # Batches run ALERT_SWEEP_WORKERS at a time, each on its own thread and connection, while this
    # one reads the next batch's ids. Batches never share a customer, so they meet on no unique key
    # and lock no row in common but the reseller's and its members' (FOR KEY SHARE, shared, at the
    # foreign keys' checks). Not inside a caller's transaction (the other connections could not see
    # its rows) nor on SQLite (one writer at a time): there the batches run here, one after another.
    workers = settings.ALERT_SWEEP_WORKERS
    if connection.in_atomic_block or connection.vendor != "postgresql":
        workers = 1
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alerts-sweep") if workers > 1 else None
    running: deque = deque()
    try:
        for reseller_id, time_zone in resellers:
            rearm = _sweep_rearm(reseller_id=reseller_id, time_zone=time_zone, now=now)
            result.rearmed += rearm.rearmed
            result.alerts += rearm.alerts
            result.deliveries += len(rearm.deliveries)
            last_id = 0
            while True:
                # Past a default threshold (the balance's partial index balance_alertable), with a
                # custom warning (customer_custom_warning) or with its own credit notification
                # (customer_credit_notification), merged in id order.
                past_threshold = CustomerBalance.objects.filter(
                    reseller_id=reseller_id, customer_id__gt=last_id, usage_band__gt=0
                ).order_by().values_list("customer_id")
                custom = Customer.objects.filter(
                    reseller_id=reseller_id, id__gt=last_id, custom_warning_percent__isnull=False
                ).order_by().values_list("id")
                own = Customer.objects.filter(
                    reseller_id=reseller_id, id__gt=last_id, credit_notification_percent__isnull=False
                ).order_by().values_list("id")
                ids = [row[0] for row in past_threshold.union(custom, own).order_by("customer_id")[:batch_size]]
                if not ids:
                    break
                last_id = ids[-1]
                if pool is None:
                    _sweep_batch_done(result, _sweep_batch(reseller_id, time_zone, ids, now))
                    continue
                running.append(pool.submit(_sweep_batch_on_own_connection, reseller_id, time_zone, ids, now))
                if len(running) >= workers:
                    _sweep_batch_done(result, running.popleft().result())
        while running:
            _sweep_batch_done(result, running.popleft().result())
    finally:
        # After a failure too: the batches still running finish (each commits or rolls back whole).
        if pool is not None:
            pool.shutdown(wait=True)
    return result


def _sweep_batch(reseller_id: int, time_zone: str, ids: list[int], now: datetime) -> tuple[int, Evaluation]:
    """One sweep batch: its own transaction (all or nothing). Its deliveries are enqueued by
    _sweep_batch_done, once it has committed."""
    with transaction.atomic():
        batch = _evaluate(reseller_id=reseller_id, time_zone=time_zone, customer_ids=ids, now=now, rearm=False)
    return len(ids), batch


def _sweep_batch_on_own_connection(*args) -> tuple[int, Evaluation]:
    """_sweep_batch on a pool thread, which has its own connection (Django's are per thread): closed
    after the batch, so no thread leaves one open."""
    try:
        return _sweep_batch(*args)
    finally:
        connection.close()


def _sweep_batch_done(result: SweepResult, done: tuple[int, Evaluation]) -> None:
    """A committed batch: its deliveries enqueued (on the sweep's own thread, while the pool's
    threads go on with the next batches: publishing a batch's 50 tasks on the thread that ran it
    held that thread's next batch back by about 25 ms; inside a caller's transaction, after its
    commit), and its figures added to the sweep's. A sweep killed between a batch's commit and this
    leaves its deliveries pending: deliveries_resend_stuck sends them, as when the broker is down."""
    customers, batch = done
    if batch.deliveries:
        deliveries_enqueue(batch.deliveries, batch=True)
    result.customers += customers
    result.alerts += batch.alerts
    result.deliveries += len(batch.deliveries)
    result.batches += 1
