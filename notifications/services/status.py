"""Account status (DESIGN §4): overdue and resumed, detected in the transaction of every balance
change; freeze and unfreeze by the reseller; suspension for resellers on the suspension-rule
allowlist, and the deadline job for its notices and the data deletion.

Every transition is one immutable customers.StatusEvent and one STATUS alert, whose deliveries go
through the usage alerts' outbox (the same recipients and channel switches), written in the
transaction of the change and sent after commit: one notice per change, whatever races it.

Lock order: the customer's balance row (the customer's lock, DESIGN §2), several in ascending
customer id; no other row is locked here."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import CustomerNotBound, DomainError
from core.money import format_money
from customers.models import (
    SUSPENSION_RETENTION,
    AccountStatus,
    Customer,
    CustomerBalance,
    Reseller,
    StatusEvent,
    account_status_of,
)

from ..models import Alert
from .evaluation import reseller_day
from .outbox import deliveries_create, deliveries_enqueue

Kind = StatusEvent.Kind
Cause = StatusEvent.Cause

# Deletion notices, days before the deadline: (days, the event that tells of them). 0 is the
# deadline itself, when the data is marked deleted.
DELETION_NOTICES = ((7, Kind.DELETION_7_DAYS), (1, Kind.DELETION_1_DAY), (0, Kind.DATA_DELETED))
SUSPENSION_NOTICE = 15


class CustomerOverdue(DomainError):
    """Unfreezing needs available ≥ 0 (DESIGN §4)."""

    code = "FailedOperation.CustomerOverdue"


@dataclass
class BalanceChange:
    """One customer's balance as a statement left it (rows locked by the caller), and what its
    available credit was before: enough to tell whether it crossed zero."""

    customer_id: int
    reseller_id: int
    credit: Decimal
    used: Decimal
    available_before: Decimal
    frozen: bool
    suspended_at: datetime | None
    data_deleted_at: datetime | None

    @property
    def available(self) -> Decimal:
        return self.credit - self.used

    def status(self, *, available: Decimal | None = None) -> str:
        return account_status_of(
            frozen=self.frozen, suspended_at=self.suspended_at, data_deleted_at=self.data_deleted_at,
            available=self.available if available is None else available,
        )


# Columns a balance UPDATE returns for BalanceChange (after customer_id, before anything else).
BALANCE_RETURNING = "reseller_id, credit, used, frozen, suspended_at, data_deleted_at"


def balance_change(row, *, delta: Decimal) -> BalanceChange:
    """A BalanceChange from `customer_id, BALANCE_RETURNING` of an UPDATE that added `delta` to the
    customer's available credit (an allocation's amount; minus a usage charge's)."""
    customer_id, reseller_id, credit, used, frozen, suspended_at, data_deleted_at = row
    credit, used = Decimal(str(credit)), Decimal(str(used))
    return BalanceChange(customer_id, reseller_id, credit, used, credit - used - Decimal(delta), bool(frozen),
                         suspended_at, data_deleted_at)


def _suspendable(customer_ids: list[int]) -> set[int]:
    """Those of these customers the suspension rule applies to: their reseller is on the allowlist
    and they do not hold the non-stop privilege."""
    if not customer_ids:
        return set()
    return set(
        Customer.objects.filter(pk__in=customer_ids, non_stop=False, reseller__suspension_allowlisted=True)
        .values_list("pk", flat=True)
    )


def balance_changes_record(
    *, changes: list[BalanceChange], cause: str, actor=None, actor_name: str = "", now: datetime | None = None
) -> list[StatusEvent]:
    """In the transaction of a balance change, with the changed balances locked: each customer whose
    available credit crossed zero gets its event (overdue below, resumed back to ≥ 0), once, as
    the change that crossed it is the only one that sees both sides. Going overdue suspends the
    customer where the suspension rule applies; resuming (not frozen) ends a suspension and cancels
    its deletion. The events' notices are written to the outbox and sent after commit."""
    now = now or timezone.now()
    overdue = [c for c in changes if c.available_before >= 0 > c.available]
    resumed = [c for c in changes if c.available_before < 0 <= c.available]
    if not overdue and not resumed:
        return []
    events: list[StatusEvent] = []
    suspend = _suspendable([c.customer_id for c in overdue if c.suspended_at is None])
    for change in overdue:
        before = change.status(available=change.available_before)
        events.append(_event(change, Kind.OVERDUE, before, change.status(), cause, actor, actor_name, now))
        if change.customer_id in suspend:
            events.append(_suspend(change, cause, actor, actor_name, now))
    unsuspend = set()
    for change in resumed:
        before = change.status(available=change.available_before)
        if change.suspended_at is not None and not change.frozen:
            _unsuspend(change)
            unsuspend.add(change.customer_id)
        events.append(_event(change, Kind.RESUMED, before, change.status(), cause, actor, actor_name, now))
    _suspensions_write([c for c in changes if c.customer_id in suspend | unsuspend])
    _overdue_recorded([c.customer_id for c in overdue], [c.customer_id for c in resumed])
    return events_record(events=events, now=now)


def _overdue_recorded(overdue: list[int], resumed: list[int]) -> None:
    for ids, value in ((sorted(overdue), True), (sorted(resumed), False)):
        if ids:
            CustomerBalance.objects.filter(pk__in=ids).update(overdue_recorded=value)


# Balances whose overdue state differs from their last event (customers.CustomerBalance's
# balance_overdue_drift index holds just these), locked in ascending customer id, the fixed order.
_DRIFTED = """
SELECT customer_id, reseller_id, credit, used, frozen, suspended_at, data_deleted_at, overdue_recorded
FROM customers_customerbalance
WHERE (credit < used AND NOT overdue_recorded) OR (credit >= used AND overdue_recorded)
ORDER BY customer_id FOR UPDATE
"""


def overdue_sweep(*, now: datetime | None = None) -> int:
    """The periodic catch-up (DESIGN §4: detected on every change and by the sweep): a balance
    changed outside the services (SQL, the admin) gets the event its change would have made, with
    its notices and suspension, once. Every service records the event with the change, so this
    normally finds nothing. Returns the number of customers it recorded."""
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_DRIFTED)
                rows = cursor.fetchall()
        else:
            rows = [
                row for row in CustomerBalance.objects.order_by("pk").values_list(
                    "customer_id", "reseller_id", "credit", "used", "frozen", "suspended_at", "data_deleted_at",
                    "overdue_recorded",
                ) if (row[2] < row[3]) != row[7]
            ]
        # The other side of zero is what the last event recorded: 0.00 when it said "not overdue",
        # a cent below when it said "overdue".
        changes = [
            BalanceChange(row[0], row[1], Decimal(str(row[2])), Decimal(str(row[3])),
                          Decimal("-0.01") if row[7] else Decimal("0.00"), row[4], row[5], row[6])
            for row in rows
        ]
        balance_changes_record(changes=changes, cause=Cause.SWEEP, actor_name="system", now=now)
    return len(changes)


def _event(change: BalanceChange, kind, before, after, cause, actor, actor_name, now) -> StatusEvent:
    return StatusEvent(
        reseller_id=change.reseller_id, customer_id=change.customer_id, created_at=now, kind=kind,
        from_status=before, to_status=after, cause=cause, actor=actor, actor_name=actor_name,
        available=change.available,
    )


def _suspend(change: BalanceChange, cause, actor, actor_name, now) -> StatusEvent:
    before = change.status()
    change.suspended_at = now
    return _event(change, Kind.SUSPENDED, before, change.status(), cause, actor, actor_name, now)


def _unsuspend(change: BalanceChange) -> None:
    change.suspended_at = None
    change.data_deleted_at = None


def _suspensions_write(changes: list[BalanceChange]) -> None:
    """Store the suspension columns these changes now hold (rows already locked by the caller): one
    UPDATE per distinct set of values (suspended now, or suspension ended), not one per customer."""
    groups: dict[tuple, list[int]] = {}
    for change in changes:
        values = (change.suspended_at, change.data_deleted_at,
                  SUSPENSION_NOTICE if change.suspended_at is not None else 0)
        groups.setdefault(values, []).append(change.customer_id)
    for (suspended_at, data_deleted_at, notice), ids in groups.items():
        CustomerBalance.objects.filter(pk__in=sorted(ids)).update(
            suspended_at=suspended_at, data_deleted_at=data_deleted_at, deletion_notice=notice,
        )


def events_record(*, events: list[StatusEvent], now: datetime) -> list[StatusEvent]:
    """Write the events, one STATUS alert each and the alerts' deliveries (the usage alerts'
    outbox: the same recipients and switches), all in the caller's transaction; the deliveries
    are sent after commit."""
    if not events:
        return []
    StatusEvent.objects.bulk_create(events)
    zones = dict(
        Reseller.objects.filter(pk__in={e.reseller_id for e in events}).values_list("pk", "time_zone")
    )
    balances = {
        b.pk: b for b in CustomerBalance.objects.filter(pk__in={e.customer_id for e in events}).only("credit", "used")
    }
    alerts = Alert.objects.bulk_create([
        Alert(
            reseller_id=e.reseller_id, customer_id=e.customer_id, kind=Alert.Kind.STATUS, threshold=0,
            day=reseller_day(zones[e.reseller_id], now), credit=balances[e.customer_id].credit,
            used=balances[e.customer_id].used, available=e.available, created_at=now, status_event=e,
        )
        for e in events
    ])
    with connection.cursor() as cursor:
        delivery_ids = deliveries_create(cursor, alert_ids=[a.pk for a in alerts], now=now)
    if delivery_ids:
        deliveries_enqueue(delivery_ids, batch=True)
    return events


# --- Freeze and unfreeze -------------------------------------------------------------------------


def _balance_locked(reseller: Reseller, customer: Customer | int) -> CustomerBalance:
    customer_id = customer.pk if isinstance(customer, Customer) else int(customer)
    balance = (
        CustomerBalance.objects.select_for_update()
        .filter(pk=customer_id, reseller=reseller, customer__reseller=reseller)
        .first()
    )
    if balance is None:
        raise CustomerNotBound()
    return balance


def _change_of(balance: CustomerBalance) -> BalanceChange:
    available = balance.credit - balance.used
    return BalanceChange(balance.pk, balance.reseller_id, balance.credit, balance.used, available, balance.frozen,
                         balance.suspended_at, balance.data_deleted_at)


def customer_freeze(
    *, reseller: Reseller, customer: Customer | int, actor=None, actor_name: str = "", cause: str = Cause.CONSOLE,
    now: datetime | None = None,
) -> list[StatusEvent]:
    """Freeze the reseller's customer: it can make no new purchase (CheckCustomerPurchase refuses),
    and where the suspension rule applies its pay-as-you-go services are suspended at once.
    Freezing a frozen customer changes nothing and returns no event."""
    now = now or timezone.now()
    with transaction.atomic():
        balance = _balance_locked(reseller, customer)
        if balance.frozen:
            return []
        change = _change_of(balance)
        before = change.status()
        change.frozen = True
        events = [_event(change, Kind.FROZEN, before, change.status(), cause, actor, actor_name, now)]
        suspend = change.suspended_at is None and _suspendable([change.customer_id])
        if suspend:
            events.append(_suspend(change, cause, actor, actor_name, now))
        CustomerBalance.objects.filter(pk=balance.pk).update(
            frozen=True, suspended_at=change.suspended_at,
            deletion_notice=SUSPENSION_NOTICE if suspend else balance.deletion_notice,
        )
        return events_record(events=events, now=now)


def customer_unfreeze(
    *, reseller: Reseller, customer: Customer | int, actor=None, actor_name: str = "", cause: str = Cause.CONSOLE,
    now: datetime | None = None,
) -> list[StatusEvent]:
    """Unfreeze the reseller's customer; refused (CustomerOverdue, nothing written) while its
    available credit is below zero. A suspension ends with it and its data deletion is cancelled.
    Unfreezing a customer that is not frozen changes nothing and returns no event."""
    now = now or timezone.now()
    with transaction.atomic():
        balance = _balance_locked(reseller, customer)
        if not balance.frozen:
            return []
        change = _change_of(balance)
        if change.available < 0:
            raise CustomerOverdue(
                gettext(
                    "The customer's available credit is %(available)s USD: allocate credit until it is 0 or "
                    "more, then unfreeze it."
                ) % {"available": format_money(change.available)}
            )
        before = change.status()
        change.frozen = False
        _unsuspend(change)
        CustomerBalance.objects.filter(pk=balance.pk).update(
            frozen=False, suspended_at=None, data_deleted_at=None, deletion_notice=0
        )
        event = _event(change, Kind.UNFROZEN, before, change.status(), cause, actor, actor_name, now)
        return events_record(events=[event], now=now)


# --- The deadline job (beat) ---------------------------------------------------------------------

# Each suspended customer's due notice: the nearest of DELETION_NOTICES whose time has come and that
# was not sent yet (a job that missed days sends only the most urgent one). One statement per notice
# stage, the rows locked in ascending customer id (the fixed lock order) and changed only while
# still due, so a second run, or one racing it, finds nothing left to do.
_DUE = """
WITH due AS (
    SELECT customer_id FROM customers_customerbalance
    WHERE suspended_at IS NOT NULL AND data_deleted_at IS NULL AND deletion_notice > %(days)s
      AND suspended_at <= %(at)s
    ORDER BY customer_id FOR UPDATE
)
UPDATE customers_customerbalance b SET deletion_notice = %(days)s,
       data_deleted_at = CASE WHEN %(days)s = 0 THEN %(now)s ELSE b.data_deleted_at END
FROM due WHERE b.customer_id = due.customer_id
  AND b.suspended_at IS NOT NULL AND b.data_deleted_at IS NULL AND b.deletion_notice > %(days)s
RETURNING b.customer_id, b.reseller_id, b.credit, b.used, b.frozen, b.suspended_at, b.data_deleted_at
"""


def suspension_deadlines_run(*, now: datetime | None = None) -> dict[str, int]:
    """Send the deletion notices that are due (7 days and 1 day before the deadline) and, at the
    deadline (SUSPENSION_RETENTION after the suspension), mark the customer's data deleted with the
    time. Set-based and idempotent: run twice, the second run finds nothing due. A customer
    resumed or unfrozen before its deadline is no longer suspended, so nothing is due for it."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic():
        events = []
        # The most urgent first: a customer past its deadline gets the deletion, not the notices.
        for days, kind in sorted(DELETION_NOTICES):
            at = now - (SUSPENSION_RETENTION - timedelta(days=days))
            rows = _due_rows(days=days, at=at, now=now)
            counts[kind] = len(rows)
            for row in rows:
                customer_id, reseller_id, credit, used, frozen, suspended_at, data_deleted_at = row
                after = account_status_of(frozen=frozen, suspended_at=suspended_at, data_deleted_at=data_deleted_at,
                                          available=Decimal(str(credit)) - Decimal(str(used)))
                events.append(StatusEvent(
                    reseller_id=reseller_id, customer_id=customer_id, created_at=now, kind=kind,
                    from_status=AccountStatus.SUSPENDED, to_status=after, cause=Cause.DEADLINE,
                    actor_name="system", available=Decimal(str(credit)) - Decimal(str(used)),
                ))
        events_record(events=events, now=now)
    return counts


def _due_rows(*, days: int, at: datetime, now: datetime) -> list[tuple]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_DUE, {"days": days, "at": at, "now": now})
            return cursor.fetchall()
    # SQLite: its IMMEDIATE transaction holds the write lock; the same rule through the ORM.
    due = CustomerBalance.objects.filter(
        suspended_at__isnull=False, data_deleted_at__isnull=True, deletion_notice__gt=days, suspended_at__lte=at
    )
    ids = list(due.order_by("pk").values_list("pk", flat=True))
    CustomerBalance.objects.filter(pk__in=ids).update(
        deletion_notice=days, **({"data_deleted_at": now} if days == 0 else {})
    )
    return list(
        CustomerBalance.objects.filter(pk__in=ids).order_by("pk").values_list(
            "pk", "reseller_id", "credit", "used", "frozen", "suspended_at", "data_deleted_at"
        )
    )
