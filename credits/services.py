"""Every write to pools, allocations and applications goes through here; so does a new reseller, which comes with its pool."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import (
    CustomerNotBound,
    DomainError,
    IdempotencyConflict,
    InsufficientPoolBalance,
    InvalidAmount,
    InvalidValue,
    RepossessTooMuch,
)
from core.inputs import quoted, text_clean, text_problem, uin_or_none, uin_rule
from core.money import CENT, INTEGER_DIGITS_MAX, format_money, max_per_operation, parse_amount
from core.rules import BURN_RATE_DAYS
from core.statements import PreparedStatement
from customers.models import Customer, CustomerBalance, Reseller, StatusEvent
from customers.services import remark_clean
from notifications.services import customer_evaluation_enqueue, customers_evaluation_enqueue
from notifications.services.sql import ids_param
from notifications.services.status import BALANCE_RETURNING, balance_change, balance_changes_record

from .models import AllocationRecord, CreditPool, PayMode, PoolApplication, PoolGrant, Repayment, UsageCharge

IDEMPOTENCY_KEY_MAX = 64
# The most one grant or application adds to a pool: far above any real pool, and far inside the
# money columns (16 digits), so that a typing slip of a few extra digits is refused.
POOL_AMOUNT_MAX = Decimal("9999999999.99")
OPERATOR_NAME_MAX = AllocationRecord._meta.get_field("operator_name").max_length
NOTE_MAX = PoolGrant._meta.get_field("note").max_length
REVIEW_NOTE_MAX = PoolApplication._meta.get_field("review_note").max_length
REASON_MAX = PoolApplication._meta.get_field("reason").max_length


def _idempotency_key_clean(value) -> str:
    key = str(value or "").strip()
    problem = text_problem(key)
    if problem:
        raise InvalidValue(
            gettext("The idempotency key is refused: %(problem)s.") % {"problem": problem},
            code="InvalidParameterValue.ClientToken",
        )
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise InvalidValue(
            gettext("The idempotency key must be 1 to %(max)s characters.") % {"max": IDEMPOTENCY_KEY_MAX},
            code="InvalidParameterValue.ClientToken",
        )
    return key


def _operator_name(actor, operator_name: str | None) -> str:
    # A label the system composes (the API's "user (API key AKID...)"), not input: shortened to fit.
    if operator_name:
        return operator_name[:OPERATOR_NAME_MAX]
    if actor is not None:
        return actor.get_username()
    return "system"


def credit_allocate(
    *,
    reseller: Reseller,
    customer: Customer | int,
    amount,
    actor=None,
    source: str = AllocationRecord.Source.CONSOLE,
    remark: str = "",
    idempotency_key: str | None = None,
    operator_name: str | None = None,
    one_statement: bool = False,
) -> AllocationRecord:
    """Add the signed `amount` to the customer's credit (negative repossesses).

    Keeps, in one transaction with the customer's balance and the pool locked in that order:
    amount <= pool.remaining when allocating; |amount| <= max(available, 0) when repossessing;
    pool.remaining + sum(customer credit) == pool.total; one immutable record per operation.
    A repeated idempotency key returns the first record and changes nothing.

    `one_statement` (inside the caller's transaction): on PostgreSQL the allocation is the one
    prepared statement of the autocommit path, with no savepoint, and whatever that statement
    does not finish (a refusal, a used idempotency key, a customer crossing zero: _ALLOCATE_ALONE)
    raises AllocationUnfinished, with nothing answered. The caller then rolls its whole transaction
    back and calls again without the flag, which answers each case. The API's writes use it
    (api.endpoint._write_once): a savepoint costs two round trips, and the statement's plan is kept.
    SQLite has no such statement: there the flag changes nothing.
    """
    customer_id = customer.pk if isinstance(customer, Customer) else int(customer)
    amount = _allocation_amount(reseller, customer_id, amount)
    remark = remark_clean(remark)
    if idempotency_key is not None:
        idempotency_key = _idempotency_key_clean(idempotency_key)

    operator_name = _operator_name(actor, operator_name)
    alone = not connection.in_atomic_block and connection.get_autocommit()
    if one_statement and alone:
        raise ValueError("credit_allocate(one_statement=True) runs inside the caller's transaction")
    one_statement = one_statement and connection.vendor == "postgresql"
    if connection.vendor == "postgresql" and (alone or one_statement):
        # Outside any transaction: the statement alone, committed as it ends (_ALLOCATE_ALONE).
        # With one_statement, the same statement in the caller's transaction, which commits it.
        record = AllocationRecord(
            created_at=timezone.now(), reseller=reseller, customer_id=customer_id, amount=amount,
            operator=actor, operator_name=operator_name, source=source, remark=remark,
            idempotency_key=idempotency_key,
        )
        if _allocate_alone(record, in_transaction=one_statement):
            # Committed (or on_commit, in the caller's transaction): the evaluation is published
            # then (DESIGN §3).
            customer_evaluation_enqueue(customer_id)
            return record
        if one_statement:
            raise AllocationUnfinished()
        # Rolled back or refused: the transaction below answers (a refusal, a replay, a status event).
    try:
        with transaction.atomic():
            now = timezone.now()
            with connection.cursor() as cursor:
                # Lock order is fixed (customer, then pool; DESIGN §2) on every path, so that two
                # operations never deadlock: usage and repayments lock only customers, allocations
                # then the pool. Each UPDATE locks its row and checks its rule in the same statement;
                # the pool row, which every allocation of the reseller waits for, is locked last.
                # On PostgreSQL the balance, the pool and the record are one statement (_ALLOCATE),
                # so both rows are held only for it and the commit; SQLite runs them one by one.
                # The CHECK constraints back both rules.
                record = AllocationRecord(
                    created_at=now, reseller=reseller, customer_id=customer_id, amount=amount,
                    operator=actor, operator_name=operator_name, source=source, remark=remark,
                    idempotency_key=idempotency_key,
                )
                if connection.vendor == "postgresql":
                    row = _allocate_in_one_statement(cursor, record)
                else:
                    row = _customer_move(cursor, record)
                # Crossing zero (an allocation to an overdue customer) is detected here, under the
                # balance's lock: the status event and its notices are this change's, once.
                balance_changes_record(
                    changes=[balance_change(row[2:], delta=amount)], cause=StatusEvent.Cause.ALLOCATION,
                    actor=actor, actor_name=operator_name, now=now,
                )
                if connection.vendor != "postgresql":
                    _pool_move_then_record(cursor, record)
            # A credit change can cross or re-arm a usage threshold (DESIGN §3).
            customer_evaluation_enqueue(customer_id)
            return record
    except _Replay:
        # The key's first record, found after this transaction's changes were rolled back.
        previous = _allocation_with_key(reseller, idempotency_key)
        if previous is None:  # pragma: no cover - a key in conflict belongs to a committed record
            raise
        return _replay(previous, customer_id=customer_id, amount=amount)
    except IntegrityError:
        # A twin with the same key committed first (SQLite: the record's UNIQUE index).
        if idempotency_key is not None:
            previous = _allocation_with_key(reseller, idempotency_key)
            if previous is not None:
                return _replay(previous, customer_id=customer_id, amount=amount)
        raise


def credit_allocate_check(*, reseller: Reseller, customer: Customer, amount) -> Decimal:
    """The amount credit_allocate would move, or the refusal it would raise now: the step before a
    repossession is confirmed. Reads only and locks nothing; credit_allocate checks again under its
    locks, so a change in between is still refused there."""
    amount = _allocation_amount(reseller, customer.pk, amount)
    if amount > 0:
        pool = CreditPool.objects.filter(reseller=reseller).only("remaining").first()
        if pool is None or pool.remaining < amount:
            raise _insufficient_pool(reseller, amount)
    else:
        balance = CustomerBalance.objects.filter(pk=customer.pk, reseller=reseller).only("credit", "used").first()
        if balance is None or balance.repossessable < -amount:
            raise _not_bound_or_too_much(reseller, customer.pk)
    return amount


# Above every per-operation limit, within what parse_amount computes exactly (INTEGER_DIGITS_MAX).
_UNCAPPED = Decimal(10) ** (INTEGER_DIGITS_MAX - 1)


def _allocation_amount(reseller: Reseller, customer_id: int, value) -> Decimal:
    """parse_amount's amount, or the most specific rule it breaks (issue 14): an amount over the
    per-operation limit that also exceeds a smaller limit (the pool's remaining credit when
    allocating, the customer's available credit when repossessing) is refused with that limit,
    which is the one the reseller can act on."""
    try:
        return parse_amount(value)
    except InvalidAmount as over_limit:
        try:
            amount = parse_amount(value, limit=_UNCAPPED)
        except InvalidAmount:
            raise over_limit from None  # malformed, not only too large
        ceiling = max_per_operation()
        if amount > 0:
            pool = CreditPool.objects.filter(reseller=reseller).only("remaining").first()
            if pool is not None and pool.remaining < ceiling:
                raise _insufficient_pool(reseller, amount) from None
        else:
            balance = CustomerBalance.objects.filter(pk=customer_id, reseller=reseller).only("credit", "used").first()
            if balance is not None and balance.repossessable < ceiling:
                raise _not_bound_or_too_much(reseller, customer_id) from None
        raise over_limit


_RECORD_COLUMNS = (
    "created_at", "reseller_id", "customer_id", "amount", "operator_id", "operator_name", "source", "remark",
    "idempotency_key",
)
# PostgreSQL: the whole allocation in one statement, so that the customer's balance and the pool are
# each locked for a single round trip before the commit (every allocation of the reseller waits
# for the pool row; the next one to the same customer waits for its balance). The lock order stays
# customer, then pool (DESIGN §2): the pool's UPDATE runs only once the balance's has returned its
# row (its EXISTS is a one-time filter, evaluated before the pool row is read). Each UPDATE checks
# its rule in its WHERE, and the CHECK constraints back them:
# - the customer's rule refused: no balance row, nothing moves; the statement returns no row;
# - the pool too small: the balance row and no pool row; no record; the caller rolls back;
# - the idempotency key already used (allocation_idempotency_key_per_reseller; a twin holding it is
#   waited for): both rows and no record id; the caller rolls back and answers with the first.
_ALLOCATE = f"""
WITH balance AS (
    UPDATE customers_customerbalance SET credit = credit + %(amount)s
    WHERE customer_id = %(customer_id)s AND reseller_id = %(reseller_id)s
      AND (%(amount)s > 0 OR ROUND(credit + %(amount)s - used, 2) >= 0)
    RETURNING credit AS credit_after, used AS used_after, customer_id, {BALANCE_RETURNING}
), pool AS (
    UPDATE credits_creditpool SET remaining = remaining - %(amount)s, updated_at = %(created_at)s
    WHERE reseller_id = %(reseller_id)s AND ROUND(remaining - %(amount)s, 2) >= 0
      AND EXISTS (SELECT FROM balance)
    RETURNING remaining
), record AS (
    INSERT INTO credits_allocationrecord ({", ".join(_RECORD_COLUMNS)}, credit_after, available_after,
                                          pool_remaining_after)
    SELECT {", ".join(f"%({column})s" for column in _RECORD_COLUMNS)}, balance.credit_after,
           balance.credit_after - balance.used_after, pool.remaining
    FROM balance, pool
    ON CONFLICT (reseller_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
)
SELECT balance.*, (SELECT remaining FROM pool), (SELECT id FROM record){{alone}} FROM balance
"""
# Outside a transaction (credit_allocate with autocommit on), _ALLOCATE is sent alone, without BEGIN
# and COMMIT: PostgreSQL commits it as it ends, so the balance and the pool are locked only while it
# runs and its commit is flushed (no round trip to this process in between). It commits only a whole
# allocation with nothing more to do: when the pool refuses it (no pool row), its key was used
# before (no record id), or the customer's available credit crosses zero (its status event belongs
# in the same transaction; balance_changes_record's condition), the last column calls
# credits_allocation_incomplete() (migration 0011), whose error rolls the statement back, and
# credit_allocate does the allocation again in a transaction, which answers each case. When the
# customer's rule refuses it (no row), nothing was changed and the transaction answers too.
_ALLOCATE_ALONE = _ALLOCATE.format(alone=""",
       CASE WHEN (SELECT id FROM record) IS NULL
                 OR (balance.credit_after - balance.used_after - %(amount)s < 0)
                    <> (balance.credit_after - balance.used_after < 0)
            THEN credits_allocation_incomplete() END""")
_ALLOCATE = _ALLOCATE.format(alone="")
_INCOMPLETE = "PC001"  # credits_allocation_incomplete()'s SQLSTATE


def _record_params(record: AllocationRecord) -> dict:
    return {column: getattr(record, column) for column in _RECORD_COLUMNS}


def _allocate_in_one_statement(cursor, record: AllocationRecord) -> tuple:
    """_ALLOCATE; returns the balance's row (credit, used, customer_id, BALANCE_RETURNING) with the
    record filled in, or raises the refusal (the caller's transaction then rolls back)."""
    cursor.execute(_ALLOCATE, _record_params(record))
    row = cursor.fetchone()
    if row is None:
        _replay_if_key_used(record.reseller, record.idempotency_key)
        raise _not_bound_or_too_much(record.reseller, record.customer_id)
    *balance, remaining, record_id = row
    if remaining is None:
        _replay_if_key_used(record.reseller, record.idempotency_key)
        raise _insufficient_pool(record.reseller, record.amount)
    if record_id is None:
        raise _Replay()
    _record_balance(record, balance)
    record.pk, record.pool_remaining_after = record_id, _money(remaining)
    record._state.adding, record._state.db = False, cursor.db.alias
    return tuple(balance)


# _ALLOCATE_ALONE is a prepared statement of each database connection (core.statements: PREPARE
# once, then EXECUTE with the values): PostgreSQL plans it once per connection instead of on every
# allocation, where planning the statement cost about as much as running it. The parameter types
# are the record's columns'.
_ALLOCATE_ALONE_PREPARED = PreparedStatement(
    numbered=_ALLOCATE_ALONE % {column: f"${n}" for n, column in enumerate(_RECORD_COLUMNS, 1)},
    count=len(_RECORD_COLUMNS),
    types=lambda connection: tuple(
        AllocationRecord._meta.get_field(column).db_type(connection) for column in _RECORD_COLUMNS
    ),
)


def _allocate_alone(record: AllocationRecord, *, in_transaction: bool = False) -> bool:
    """_ALLOCATE_ALONE, committed on its own: True with the record filled in, False when nothing
    was committed (see _ALLOCATE_ALONE) and the allocation is to be done in a transaction.

    `in_transaction`: sent in the caller's transaction (credit_allocate's one_statement), where an
    error leaves the transaction aborted; so any database error is False there, for the caller's
    transaction to roll back, and the caller's second call (with savepoints) meets it again if it
    is real."""
    params = [getattr(record, column) for column in _RECORD_COLUMNS]
    try:
        with connection.cursor() as cursor:
            _ALLOCATE_ALONE_PREPARED.execute(cursor, params)
            row = cursor.fetchone()
    except DatabaseError as error:
        if in_transaction:
            return False
        if getattr(error.__cause__, "sqlstate", None) == _INCOMPLETE or isinstance(error, IntegrityError):
            return False
        raise
    if row is None:
        return False
    *balance, remaining, record_id, _ = row
    _record_balance(record, balance)
    record.pk, record.pool_remaining_after = record_id, _money(remaining)
    record._state.adding, record._state.db = False, connection.alias
    return True


def _record_balance(record: AllocationRecord, balance) -> None:
    record.credit_after = _money(balance[0])
    record.available_after = _money(balance[0]) - _money(balance[1])


def _customer_move(cursor, record: AllocationRecord) -> tuple:
    """SQLite (no data-modifying WITH): the customer's rule first, then _pool_move_then_record."""
    amount = record.amount
    if amount > 0:
        cursor.execute(_CUSTOMER_ADD, [amount, record.customer_id, record.reseller_id])
    else:
        cursor.execute(_CUSTOMER_REPOSSESS, [amount, record.customer_id, record.reseller_id, amount])
    row = cursor.fetchone()
    if row is None:
        _replay_if_key_used(record.reseller, record.idempotency_key)
        raise _not_bound_or_too_much(record.reseller, record.customer_id)
    _record_balance(record, row)
    return row


def _pool_move_then_record(cursor, record: AllocationRecord) -> None:
    """The same on SQLite (no data-modifying WITH): the pool's rule, then the record (its UNIQUE
    index raises IntegrityError for a key already used)."""
    cursor.execute(_POOL_MOVE, [record.amount, record.created_at, record.reseller_id, record.amount])
    pool_row = cursor.fetchone()
    if pool_row is None:
        _replay_if_key_used(record.reseller, record.idempotency_key)
        raise _insufficient_pool(record.reseller, record.amount)
    record.pool_remaining_after = _money(pool_row[0])
    record.save(force_insert=True)


class AllocationUnfinished(Exception):  # noqa: N818 - control flow between credit_allocate and its caller
    """credit_allocate(one_statement=True) did not allocate and answered nothing: roll the
    transaction back and call again without one_statement."""


class _Replay(Exception):  # noqa: N818 - control flow, never leaves credit_allocate
    """The idempotency key was used before: roll this transaction back and answer with the first."""


def _replay_if_key_used(reseller: Reseller, idempotency_key: str | None) -> None:
    """Before a refusal: a request repeated after its first success (which may have used up the
    pool or the available credit it needs) gets the first record, as every repeat does."""
    if idempotency_key is not None and _allocation_with_key(reseller, idempotency_key) is not None:
        raise _Replay()


def _allocation_with_key(reseller: Reseller, idempotency_key: str) -> AllocationRecord | None:
    return AllocationRecord.objects.filter(reseller=reseller, idempotency_key=idempotency_key).first()


def _not_bound_or_too_much(reseller: Reseller, customer_id: int) -> DomainError:
    balance = CustomerBalance.objects.filter(pk=customer_id, reseller=reseller).only("credit", "used").first()
    if balance is None:
        return CustomerNotBound()
    return RepossessTooMuch(
        gettext(
            "The maximum credit you can repossess must be not greater than the customer's "
            "available credit (%(available)s USD)."
        ) % {"available": format_money(balance.repossessable)}
    )


_POOL_MOVE = (
    "UPDATE credits_creditpool SET remaining = remaining - %s, updated_at = %s "
    "WHERE reseller_id = %s AND ROUND(remaining - %s, 2) >= 0 RETURNING remaining"
)
_CUSTOMER_ADD = (
    "UPDATE customers_customerbalance SET credit = credit + %s WHERE customer_id = %s AND reseller_id = %s "
    "RETURNING credit, used, customer_id, " + BALANCE_RETURNING
)
# Repossess: |amount| <= max(available, 0), i.e. credit + amount - used >= 0 with amount < 0.
_CUSTOMER_REPOSSESS = (
    "UPDATE customers_customerbalance SET credit = credit + %s WHERE customer_id = %s AND reseller_id = %s "
    "AND ROUND(credit + %s - used, 2) >= 0 RETURNING credit, used, customer_id, " + BALANCE_RETURNING
)


def _insufficient_pool(reseller: Reseller, amount: Decimal) -> InsufficientPoolBalance:
    pool = CreditPool.objects.filter(reseller=reseller).first()
    remaining = pool.remaining if pool else Decimal("0.00")
    return InsufficientPoolBalance(
        gettext(
            "Your remaining customer credit is %(remaining)s USD; you cannot allocate %(amount)s USD. "
            "Apply to your channel manager for more customer credit."
        ) % {"remaining": format_money(remaining), "amount": format_money(amount)}
    )


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _replay(previous: AllocationRecord, *, customer_id: int, amount: Decimal) -> AllocationRecord:
    if previous.customer_id != customer_id or previous.amount != amount:
        raise IdempotencyConflict(
            gettext(
                "This request token was already used for a different allocation (%(amount)s USD to "
                "customer %(uin)s). Use a new token."
            ) % {"amount": ("+" if previous.amount > 0 else "") + format_money(previous.amount), "uin": previous.customer.uin}
        )
    previous.replayed = True
    return previous


_REPAY = (
    "UPDATE customers_customerbalance SET used = used - %s WHERE customer_id = %s AND reseller_id = %s "
    "AND ROUND(used - %s, 2) >= 0 RETURNING credit, used, customer_id, " + BALANCE_RETURNING
)


def repayment_confirm(
    *, reseller: Reseller, customer: Customer, amount, actor, idempotency_key: str, remark: str = ""
) -> Repayment:
    """Record a repayment the reseller confirmed: `used` drops by `amount` (never below zero), so the
    customer's available credit grows back; then the customer is evaluated (it may be re-armed).
    A repeated idempotency key returns the first repayment and changes nothing."""
    amount = parse_amount(amount, allow_negative=False)
    remark = remark_clean(remark)
    idempotency_key = _idempotency_key_clean(idempotency_key)
    if customer.reseller_id != reseller.pk:
        raise CustomerNotBound()
    try:
        with transaction.atomic():
            previous = Repayment.objects.filter(reseller=reseller, idempotency_key=idempotency_key).first()
            if previous is not None:
                return _repayment_replay(previous, customer=customer, amount=amount)
            with connection.cursor() as cursor:
                # One conditional UPDATE locks the customer's balance and checks "never below zero";
                # the CHECK constraint on used backs it.
                cursor.execute(_REPAY, [amount, customer.pk, reseller.pk, amount])
                row = cursor.fetchone()
            if row is None:
                used = (
                    CustomerBalance.objects.filter(pk=customer.pk).values_list("used", flat=True).first()
                    or Decimal("0.00")
                )
                raise InvalidValue(
                    gettext("A repayment can be at most what the customer has used (%(used)s USD).")
                    % {"used": format_money(used)},
                    field="amount",
                )
            credit, used = _money(row[0]), _money(row[1])
            balance_changes_record(
                changes=[balance_change(row[2:], delta=amount)], cause=StatusEvent.Cause.REPAYMENT,
                actor=actor, actor_name=_operator_name(actor, None),
            )
            repayment = Repayment.objects.create(
                reseller=reseller, customer=customer, amount=amount, used_after=used, available_after=credit - used,
                remark=remark, confirmed_by=actor, confirmed_by_name=_operator_name(actor, None),
                idempotency_key=idempotency_key,
            )
            customer_evaluation_enqueue(customer.pk)
            return repayment
    except IntegrityError:
        # A twin with the same key committed while this one waited on the customer row.
        previous = Repayment.objects.filter(reseller=reseller, idempotency_key=idempotency_key).first()
        if previous is None:
            raise
        return _repayment_replay(previous, customer=customer, amount=amount)


def _repayment_replay(previous: Repayment, *, customer: Customer, amount: Decimal) -> Repayment:
    if previous.customer_id != customer.pk or previous.amount != amount:
        raise IdempotencyConflict(gettext("This form was already used for a different repayment. Open the form again."))
    previous.replayed = True
    return previous


def reseller_create(*, name: str, uin: int, contact_email: str = "", contact_phone: str = "", **extra) -> Reseller:
    """Create a reseller with its (empty) customer-credit pool. Here rather than in customers: the
    pool is credits', and credits sits above customers (see .importlinter). The UIN follows the one
    UIN rule (core.inputs) and the name is required, as for a customer; nothing is written otherwise."""
    name = text_clean(name, label=gettext("reseller's name"), limit=Reseller._meta.get_field("name").max_length,
                      field="name", required=True)
    checked_uin = uin_or_none(uin)
    if checked_uin is None:
        raise InvalidValue(gettext("Enter a valid UIN: %(rule)s.") % {"rule": uin_rule()}, field="uin")
    uin = checked_uin
    with transaction.atomic():
        reseller = Reseller.objects.create(
            name=name, uin=uin, contact_email=contact_email, contact_phone=contact_phone, **extra
        )
        CreditPool.objects.create(reseller=reseller)
        return reseller


def pool_grant(
    *, reseller: Reseller, amount, actor=None, note: str = "", application: PoolApplication | None = None
) -> PoolGrant:
    """Add an approved grant to the pool: total and remaining both grow by `amount`. A note longer
    than its column is refused, not cut short."""
    amount = parse_amount(amount, allow_negative=False, limit=POOL_AMOUNT_MAX)
    note = text_clean(note, label=gettext("note"), limit=NOTE_MAX, field="note")
    with transaction.atomic():
        CreditPool.objects.get_or_create(reseller=reseller)
        pool = CreditPool.objects.select_for_update().get(reseller=reseller)
        pool.total += amount
        pool.remaining += amount
        pool.updated_at = timezone.now()
        pool.save(update_fields=["total", "remaining", "updated_at"])
        return PoolGrant.objects.create(
            reseller=reseller, amount=amount, granted_by=actor, note=note, application=application
        )


def pool_application_submit(*, reseller: Reseller, amount, reason: str, actor=None) -> PoolApplication:
    amount = parse_amount(amount, allow_negative=False, limit=POOL_AMOUNT_MAX)
    reason = text_clean(reason, label=gettext("reason"), limit=REASON_MAX, field="reason")
    if not reason:
        raise InvalidValue(gettext("Tell your channel manager why you need the credit."), field="reason")
    return PoolApplication.objects.create(reseller=reseller, amount=amount, reason=reason, submitted_by=actor)


def _review(application_id: int, *, actor, note: str, status: str) -> PoolApplication:
    note = text_clean(note, label=gettext("review note"), limit=REVIEW_NOTE_MAX, field="note")
    application = PoolApplication.objects.select_for_update().select_related("reseller").get(pk=application_id)
    if application.status != PoolApplication.Status.PENDING:
        raise DomainError(
            gettext("This application was already %(status)s; only pending applications can be reviewed.")
            % {"status": str(application.get_status_display()).lower()},
            code="FailedOperation.ApplicationReviewed",
        )
    application.status = status
    application.reviewed_by = actor
    application.reviewed_at = timezone.now()
    application.review_note = note
    application.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    return application


def pool_application_approve(*, application: PoolApplication, actor=None, note: str = "") -> PoolApplication:
    """Approve a pending application and grant its amount, once."""
    with transaction.atomic():
        application = _review(application.pk, actor=actor, note=note, status=PoolApplication.Status.APPROVED)
        pool_grant(
            reseller=application.reseller,
            amount=application.amount,
            actor=actor,
            note=f"Application #{application.pk}",
            application=application,
        )
        return application


def pool_application_reject(*, application: PoolApplication, actor=None, note: str = "") -> PoolApplication:
    with transaction.atomic():
        return _review(application.pk, actor=actor, note=note, status=PoolApplication.Status.REJECTED)


# --- Usage charges (DESIGN §3) ---------------------------------------------------------------

EXTERNAL_ID_MAX = 128
PRODUCT_MAX = 100
REGION_MAX = 64
INSTANCE_ID_MAX = 128
DESCRIPTION_MAX = 255
PAY_MODES = tuple(PayMode.values)
# Billing lags, so old charges are normal, back to INCURRED_AT_EARLIEST. A charge up to a day ahead
# is a billing system's clock or time-zone slip we still take; beyond either end it is an input
# error (year 1 would even be stored as a BC time that no later read can convert back).
INCURRED_AT_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
INCURRED_AT_AHEAD = timedelta(days=1)


def _parse_uin(value) -> int:
    uin = uin_or_none(value)
    if uin is None:
        raise InvalidValue(
            gettext("The customer UIN %(value)s is not a UIN: %(rule)s.")
            % {"value": quoted(value), "rule": uin_rule()},
            code="InvalidParameterValue.InvalidUin",
            field="customer_uin",
        )
    return uin


def _parse_incurred_at(value, now: datetime | None = None) -> datetime:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidValue(
                gettext("The time %(value)s is not an ISO 8601 date and time such as 2026-11-26T08:00:00+08:00.")
                % {"value": repr(text)},
                code="InvalidParameterValue.IncurredAt",
                field="incurred_at",
            ) from None
    if not isinstance(value, datetime):
        raise InvalidValue(
            gettext("Give the time the usage was incurred as an ISO 8601 date and time."),
            code="InvalidParameterValue.IncurredAt",
            field="incurred_at",
        )
    if value.utcoffset() is None:
        raise InvalidValue(
            gettext("The time the usage was incurred needs a time zone (such as +08:00 or Z)."),
            code="InvalidParameterValue.IncurredAt",
            field="incurred_at",
        )
    latest = (now or timezone.now()) + INCURRED_AT_AHEAD
    if not INCURRED_AT_EARLIEST <= value <= latest:
        raise InvalidValue(
            gettext(
                "The time the usage was incurred, %(value)s, is outside the accepted window: from "
                "%(earliest)s to one day from now (%(latest)s)."
            )
            % {
                "value": value.isoformat(),
                "earliest": INCURRED_AT_EARLIEST.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "latest": latest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            code="InvalidParameterValue.IncurredAt",
            field="incurred_at",
        )
    # In UTC: Python takes offsets up to ±23:59, PostgreSQL's timestamptz input only up to ±15:59.
    return value.astimezone(UTC)


def _check_text(value, *, name: str, limit: int, required: bool = False) -> str:
    return text_clean(value, label=name.replace("_", " "), limit=limit, field=name, required=required)


# Read once: Source.values builds its list on every call, a third of checking a charge.
_USAGE_SOURCES = frozenset(UsageCharge.Source.values)


def _parse_pay_mode(value) -> str:
    """Tencent's spelling, prePay or postPay; empty (an old input without it) is pay-as-you-go."""
    text = "" if value is None else str(value).strip()
    if not text:
        return PayMode.POSTPAY
    if text not in PAY_MODES:
        raise InvalidValue(gettext("The pay mode %(value)s is not one of %(modes)s (empty means postPay).")
                           % {"value": quoted(text), "modes": ", ".join(PAY_MODES)},
                           code="InvalidParameterValue.PayMode", field="pay_mode")
    return text


def usage_charge_check(
    *, customer_uin, amount, incurred_at, external_id, product="", description="", source: str = "api",
    region="", pay_mode="", instance_id="", now: datetime | None = None,
) -> dict:
    """Validate one charge's fields without touching the database; return them normalised. Region
    and instance id are optional (empty); pay mode defaults to pay-as-you-go (postPay). `now` (the
    current time by default) bounds the time incurred: a batch reads the clock once."""
    if source not in _USAGE_SOURCES:
        raise InvalidValue(gettext("Unknown usage source %(source)s: use one of %(sources)s.")
                           % {"source": quoted(source), "sources": ", ".join(sorted(_USAGE_SOURCES))}, field="source")
    return {
        "region": _check_text(region, name="region", limit=REGION_MAX),
        "pay_mode": _parse_pay_mode(pay_mode),
        "instance_id": _check_text(instance_id, name="instance_id", limit=INSTANCE_ID_MAX),
        "customer_uin": _parse_uin(customer_uin),
        "amount": parse_amount(amount, allow_negative=False),
        "incurred_at": _parse_incurred_at(incurred_at, now),
        "external_id": _check_text(external_id, name="external_id", limit=EXTERNAL_ID_MAX, required=True),
        "product": _check_text(product, name="product", limit=PRODUCT_MAX),
        "description": _check_text(description, name="description", limit=DESCRIPTION_MAX),
        "source": source,
    }


class UsageIngest(NamedTuple):
    """What one batch did: charges recorded, charges already recorded (replays, not counted again),
    and the customers whose `used` grew (their evaluation is enqueued after commit)."""

    created: int
    replayed: int
    customer_ids: list[int]


def _usage_conflict(external_id: str, *, amount: Decimal, uin: int) -> IdempotencyConflict:
    conflict = IdempotencyConflict(
        gettext("The external id %(external_id)s was already used for a different charge "
                "(%(amount)s USD to customer %(uin)s).")
        % {"external_id": repr(external_id), "amount": format_money(amount), "uin": uin},
        field="external_id",
    )
    conflict.external_id = external_id  # so that a caller can name the row (import_usage: its line)
    return conflict


# Lock the batch's customers in ascending id (DESIGN §2) before anything is written: rows come in
# any order (a CSV file's, an API batch's), and locking as they come lets two batches deadlock.
# Every batch holds all its customer locks before it inserts, so a batch waiting on another's
# unique-index entry (ON CONFLICT) is never waited on in turn for a customer lock.
# The UINs go in as an InitPlan's array, which the planner cannot see into and estimates at a few
# elements: it then always looks each balance up by its primary key. Given the 1,000 UINs as a
# literal array, whenever the balance table was compact (a freshly loaded database) it joined them
# to a sequential scan of every balance instead, 20 ms for 100,000 of them against 8 ms.
_CUSTOMERS_LOCK = """
SELECT c.id, c.uin FROM customers_customer c JOIN customers_customerbalance b ON b.customer_id = c.id
WHERE c.reseller_id = %s AND c.uin = ANY((SELECT %s::bigint[])::bigint[]) ORDER BY c.id FOR UPDATE OF b
"""
# What was recorded under these external ids, from the key table (it also knows the charges of
# archived months). Each id is looked up by the primary key (a LATERAL subquery with LIMIT, as in
# _BATCH_APPLY_PG): written as `k.external_id = ANY(…)`, the planner, whenever the key table's
# statistics lag behind its growth (as during a large import), reads every key the reseller ever
# recorded and filters them, 180 ms for 2,000 ids against 400,000 keys where the lookups take 20 ms,
# and more with every charge recorded.
_KEYS_RECORDED = """
SELECT e.external_id, c.uin, k.amount FROM unnest(%s::text[]) AS e(external_id)
JOIN LATERAL (SELECT k.customer_id, k.amount FROM credits_usagechargekey k
              WHERE k.reseller_id = %s AND k.external_id = e.external_id LIMIT 1) k ON true
JOIN customers_customer c ON c.id = k.customer_id
"""
def _customers_lock(cursor, reseller: Reseller, uins: list[int]) -> dict[int, int]:
    """{uin: customer id} of the reseller's customers among `uins`, locked in ascending id."""
    if connection.vendor == "postgresql":
        cursor.execute(_CUSTOMERS_LOCK, [reseller.pk, ids_param(uins)])
        return {uin: customer_id for customer_id, uin in cursor.fetchall()}
    # SQLite has no row locks: its IMMEDIATE transactions (see settings) take the write lock instead.
    found: dict[int, int] = {}
    for start in range(0, len(uins), 500):
        found.update(
            (uin, customer_id)
            for customer_id, uin in Customer.objects.filter(reseller=reseller, uin__in=uins[start : start + 500])
            .values_list("id", "uin")
        )
    return found


def _charges_insert(cursor, reseller: Reseller, rows: list[dict], now: datetime) -> list[tuple[str, int, Decimal]]:
    """SQLite (PostgreSQL: _BATCH_APPLY_PG): insert the charges that are not there yet; return
    (external id, customer id, amount) of each one inserted. Its IMMEDIATE transaction holds the
    database's write lock, so no twin races in."""
    there: set[str] = set()
    ids = [r["external_id"] for r in rows]
    for start in range(0, len(ids), 500):
        there.update(UsageCharge.objects.filter(reseller=reseller, external_id__in=ids[start : start + 500])
                     .values_list("external_id", flat=True))
    new = [r for r in rows if r["external_id"] not in there]
    UsageCharge.objects.bulk_create(
        [UsageCharge(reseller=reseller, customer_id=r["customer_id"], amount=r["amount"],
                     incurred_at=r["incurred_at"], external_id=r["external_id"], product=r["product"],
                     description=r["description"], source=r["source"], created_at=now, region=r["region"],
                     pay_mode=r["pay_mode"], instance_id=r["instance_id"]) for r in new],
        batch_size=500,
    )
    return [(r["external_id"], r["customer_id"], r["amount"]) for r in new]


# The daily rollups of the charges just inserted: one statement adds each (customer, day, product,
# region, pay mode) sum to its row, or makes the row. Its customers' balance rows are locked
# (_CUSTOMERS_LOCK), so two batches never wait on each other's rollup rows in turn.
_DAILY_UPSERT_CONFLICT = """
ON CONFLICT (customer_id, day, product, region, pay_mode)
DO UPDATE SET amount = credits_usagedaily.amount + excluded.amount,
              charges = credits_usagedaily.charges + excluded.charges
"""
# SQLite reads "ON CONFLICT" after a bare VALUES list without ambiguity (not after a SELECT).
_DAILY_UPSERT_VALUES = """
INSERT INTO credits_usagedaily (reseller_id, customer_id, day, product, region, pay_mode, amount, charges)
VALUES {values}
""" + _DAILY_UPSERT_CONFLICT
# Burn rate = the sum of the rollups of the last BURN_RATE_DAYS days (today, in the reseller's zone,
# and the 6 before) / BURN_RATE_DAYS, kept with that sum and the window's last day (burn_sum,
# burn_day); the same statement on PostgreSQL and SQLite (".0": SQLite stores whole amounts as
# integers and would divide them as integers).
_BURN_RATE_SET = f"""
UPDATE customers_customerbalance SET (burn_sum, burn_rate, burn_day) = (
    SELECT COALESCE(SUM(d.amount), 0), COALESCE(ROUND(SUM(d.amount) / {BURN_RATE_DAYS}.0, 4), 0), %s
    FROM credits_usagedaily d
    WHERE d.customer_id = customers_customerbalance.customer_id AND d.day >= %s AND d.day <= %s)
"""


def reseller_today(reseller: Reseller, now: datetime | None = None):
    """Today's date in the reseller's time zone (the day rollups and burn rates count in)."""
    return (now or timezone.now()).astimezone(reseller.zone).date()


def burn_rate_window(reseller: Reseller, now: datetime | None = None):
    """The first and last day (inclusive) the burn rate averages over."""
    today = reseller_today(reseller, now)
    return today - timedelta(days=BURN_RATE_DAYS - 1), today


def _daily_add(cursor, reseller: Reseller, charges: list[dict]) -> None:
    """SQLite (PostgreSQL: _BATCH_APPLY_PG): add the charges just inserted to their daily rollups,
    the day in the reseller's zone."""
    zone = reseller.zone
    sums: dict[tuple, list] = {}
    for c in charges:
        key = (c["customer_id"], c["incurred_at"].astimezone(zone).date(), c["product"], c["region"], c["pay_mode"])
        entry = sums.setdefault(key, [Decimal("0.00"), 0])
        entry[0] += c["amount"]
        entry[1] += 1
    keys = sorted(sums)
    if not keys:
        return
    for start in range(0, len(keys), 100):
        chunk = keys[start : start + 100]
        cursor.execute(
            _DAILY_UPSERT_VALUES.format(values=", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))),
            [v for k in chunk for v in (reseller.pk, *k, sums[k][0], sums[k][1])],
        )


def burn_rates_set(cursor, reseller: Reseller, customer_ids: list[int] | None = None,
                   now: datetime | None = None) -> int:
    """Set the burn rate of the reseller's customers (`customer_ids`, else every one that spent in
    the window or still has a burn rate) from their rollups; return the rows updated."""
    first, last = burn_rate_window(reseller, now)
    if customer_ids is not None:
        ids = sorted(customer_ids)
        where, params = f" WHERE customer_id IN ({', '.join(['%s'] * len(ids))})", ids
        if connection.vendor == "postgresql":
            where, params = " WHERE customer_id = ANY(%s)", [ids]
    else:
        where = (" WHERE reseller_id = %s AND (burn_rate <> 0 OR EXISTS (SELECT 1 FROM credits_usagedaily e"
                 " WHERE e.customer_id = customers_customerbalance.customer_id AND e.day >= %s AND e.day <= %s))")
        params = [reseller.pk, first, last]
    cursor.execute(_BURN_RATE_SET + where, [last, first, last, *params])
    return cursor.rowcount


def burn_rates_refresh(*, now: datetime | None = None) -> int:
    """Beat, a little after each hour: a day that rolled over in a reseller's zone drops its oldest
    day from the customers' 7-day window (ingestion only refreshes customers it charges). One
    set-based statement per reseller; returns the balance rows updated."""
    updated = 0
    for reseller in Reseller.objects.all():
        with transaction.atomic(), connection.cursor() as cursor:
            updated += burn_rates_set(cursor, reseller, now=now)
    return updated


def _customers_used_add(cursor, sums: dict[int, Decimal]) -> None:
    """SQLite (PostgreSQL: _BATCH_APPLY_PG): add each customer's sum to its `used`; then, in the
    same transaction, the customers whose available credit this crossed below zero get their status
    event (available before = after + the sum: no other writer lies between). The CHECK
    balance_used_not_negative backs it."""
    ids = sorted(sums)
    for customer_id in ids:
        CustomerBalance.objects.filter(pk=customer_id).update(used=F("used") + sums[customer_id])
    rows = [
        (*row, sums[row[0]])
        for row in CustomerBalance.objects.filter(pk__in=ids).values_list(
            "customer_id", "reseller_id", "credit", "used", "frozen", "suspended_at", "data_deleted_at"
        )
    ]
    balance_changes_record(
        changes=[balance_change(row[:7], delta=-Decimal(str(row[7]))) for row in rows],
        cause=StatusEvent.Cause.USAGE, actor_name="usage",
    )


def usage_charges_recorded(reseller_id: int, external_ids: list[str]) -> dict[str, tuple[int, Decimal]]:
    """{external id: (customer UIN, amount)} of the charges recorded for the reseller under these
    external ids: on PostgreSQL one read of the key table by its primary key (it also knows the
    charges of archived months)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_KEYS_RECORDED, [external_ids, reseller_id])
            return {external_id: (uin, _money(amount)) for external_id, uin, amount in cursor.fetchall()}
    recorded = {}
    for start in range(0, len(external_ids), 500):
        recorded.update(
            (external_id, (uin, amount))
            for external_id, uin, amount in UsageCharge.objects.filter(
                reseller_id=reseller_id, external_id__in=external_ids[start : start + 500]
            ).values_list("external_id", "customer__uin", "amount")
        )
    return recorded


def _replays_check(reseller: Reseller, rows: list[dict]) -> None:
    """Charges not inserted were there already: each must be the same charge (customer and amount)
    as the one recorded, else the whole batch is refused."""
    recorded = usage_charges_recorded(reseller.pk, [r["external_id"] for r in rows])
    for row in rows:
        uin, amount = recorded[row["external_id"]]
        if (uin, amount) != (row["customer_uin"], row["amount"]):
            raise _usage_conflict(row["external_id"], amount=amount, uin=uin)


# PostgreSQL: the whole batch after the customer lock is this one statement. `ins` inserts the
# charges whose (reseller, external id) is not recorded yet. The table is partitioned by month
# (migration 0007), so the key table credits_usagechargekey holds the UNIQUE (reseller, external
# id): the trigger on the charges writes each key in this same statement, and a twin a concurrent
# batch inserted an instant before makes it fail with IntegrityError (then the batch is tried again
# and meets the twin as recorded); usage_charge_amount_positive backs "amount > 0". Each charge
# looks its own key up by the primary key: a subquery with LIMIT, which the planner cannot turn
# into an anti-join. Written as NOT EXISTS, the planner hashes every key the reseller ever recorded,
# once per batch, whenever the key table's statistics lag behind its growth (as they do during a
# large import), and a batch then costs more with every charge recorded before it. `ins` hands the
# charges, with their day in the reseller's zone, to the rollup upsert (`daily`) and to the
# per-customer sums (`sums`), which one UPDATE adds to `used` and turns into the burn rate (as
# _BURN_RATE_SET) in the same row version: one update of each balance row instead of two. Every
# part of a statement reads the snapshot it started with, so the burn rate's subquery does not see
# `daily`'s rows yet and adds the batch's own charges in the window (`recent`) to them: the same
# sum, as the customers are locked. A customer whose window already ends today (burn_day) adds
# `recent` to the sum it keeps (burn_sum) instead: the rollups of its window grew by exactly its
# charges in the window since, all of them written under its lock (`burn`). Reading its 7 days of
# rollups again cost about 47 ms a batch of 1,000 against 10 million rollups. The result is a row
# per customer charged, with its balance only when its available credit crossed zero (what
# balance_changes_record acts on).
_BATCH_APPLY_PG = f"""
WITH ins AS (
    INSERT INTO credits_usagecharge
        (reseller_id, customer_id, amount, incurred_at, external_id, product, description, source, created_at,
         region, pay_mode, instance_id)
    SELECT %(reseller)s, r.customer_id, r.amount, r.incurred_at, r.external_id, r.product, r.description,
           r.source, %(now)s, r.region, r.pay_mode, r.instance_id
    FROM json_to_recordset(%(charges)s::json)
         AS r(customer_id bigint, amount numeric, incurred_at timestamptz, external_id text, product text,
              description text, source text, region text, pay_mode text, instance_id text)
    WHERE (SELECT true FROM credits_usagechargekey k
           WHERE k.reseller_id = %(reseller)s AND k.external_id = r.external_id LIMIT 1) IS NULL
    RETURNING customer_id, amount, (incurred_at AT TIME ZONE %(zone)s)::date AS day, product, region, pay_mode
), daily AS (
    INSERT INTO credits_usagedaily (reseller_id, customer_id, day, product, region, pay_mode, amount, charges)
    SELECT %(reseller)s, customer_id, day, product, region, pay_mode, SUM(amount), COUNT(*)
    FROM ins GROUP BY customer_id, day, product, region, pay_mode
    {_DAILY_UPSERT_CONFLICT}
), sums AS (
    SELECT customer_id, SUM(amount) AS amount, COUNT(*) AS charges,
           COALESCE(SUM(amount) FILTER (WHERE day >= %(first)s AND day <= %(last)s), 0) AS recent
    FROM ins GROUP BY customer_id
), burn AS MATERIALIZED (
    SELECT s.customer_id, s.amount, s.charges,
           s.recent + CASE WHEN w.burn_day = %(last)s THEN w.burn_sum ELSE COALESCE((
               SELECT SUM(d.amount) FROM credits_usagedaily d
               WHERE d.customer_id = s.customer_id AND d.day >= %(first)s AND d.day <= %(last)s), 0) END AS burn_sum
    FROM sums s JOIN customers_customerbalance w ON w.customer_id = s.customer_id
), balance AS (
    UPDATE customers_customerbalance b SET used = b.used + s.amount, burn_sum = s.burn_sum,
        burn_rate = ROUND(s.burn_sum / {BURN_RATE_DAYS}.0, 4), burn_day = %(last)s
    FROM burn s WHERE b.customer_id = s.customer_id
    RETURNING b.customer_id, {BALANCE_RETURNING}, s.amount, s.charges
)
SELECT customer_id, charges, credit - used < 0 AND credit - used + amount >= 0,
       {BALANCE_RETURNING}, amount
FROM balance ORDER BY customer_id
"""


def _usage_batch_apply(reseller: Reseller, batch: dict[str, dict], uins: list[int]) -> tuple[int, list[int]]:
    with transaction.atomic(), connection.cursor() as cursor:
        owned = _customers_lock(cursor, reseller, uins)
        for fields in batch.values():
            if fields["customer_uin"] not in owned:
                raise CustomerNotBound(fields["customer_uin"], field="customer_uin")
        # Inserted in external-id order: two batches sharing external ids meet them in one order.
        charges = [{**fields, "customer_id": owned[fields["customer_uin"]]}
                   for _, fields in sorted(batch.items())]
        if connection.vendor == "postgresql":
            return _usage_batch_apply_pg(cursor, reseller, charges)
        inserted = _charges_insert(cursor, reseller, charges, timezone.now())
        if len(inserted) < len(charges):
            new = {external_id for external_id, _, _ in inserted}
            _replays_check(reseller, [c for c in charges if c["external_id"] not in new])
        sums: dict[int, Decimal] = {}
        for _, customer_id, amount in inserted:
            sums[customer_id] = sums.get(customer_id, Decimal("0.00")) + Decimal(amount)
        _customers_used_add(cursor, sums)
        customer_ids = sorted(sums)
        if customer_ids:
            new = {external_id for external_id, _, _ in inserted}
            _daily_add(cursor, reseller, [c for c in charges if c["external_id"] in new])
            burn_rates_set(cursor, reseller, customer_ids)
            customers_evaluation_enqueue(customer_ids)
    return len(inserted), customer_ids


def _charges_json(charges: list[dict]) -> str:
    """The batch as one JSON array for _BATCH_APPLY_PG's json_to_recordset: one parameter that
    json.dumps writes in C, where ten arrays were quoted element by element in Python (a tenth of a
    1,000-charge request). Amounts go as text, so that no float ever holds them; times in ISO 8601
    with their offset; text as it is (usage_charge_check refused NUL and lone surrogates)."""
    return json.dumps([
        {"customer_id": r["customer_id"], "amount": str(r["amount"]), "incurred_at": r["incurred_at"].isoformat(),
         "external_id": r["external_id"], "product": r["product"], "description": r["description"],
         "source": r["source"], "region": r["region"], "pay_mode": r["pay_mode"], "instance_id": r["instance_id"]}
        for r in charges
    ], ensure_ascii=False)


def _usage_batch_apply_pg(cursor, reseller: Reseller, charges: list[dict]) -> tuple[int, list[int]]:
    """The batch's statement (_BATCH_APPLY_PG), its customers locked; then the replay check and the
    status events of the customers that went overdue."""
    now = timezone.now()
    first, last = burn_rate_window(reseller, now)
    cursor.execute(_BATCH_APPLY_PG, {
        "reseller": reseller.pk, "now": now, "zone": reseller.zone.key, "first": first, "last": last,
        "charges": _charges_json(charges),
    })
    rows = cursor.fetchall()
    created = sum(row[1] for row in rows)
    if created < len(charges):
        # The charges inserted are recorded under their own customer and amount, so checking the
        # whole batch against the key table finds exactly the replays that differ.
        _replays_check(reseller, charges)
    balance_changes_record(
        changes=[balance_change((row[0], *row[3:9]), delta=-Decimal(str(row[9]))) for row in rows if row[2]],
        cause=StatusEvent.Cause.USAGE, actor_name="usage",
    )
    customer_ids = [row[0] for row in rows]
    customers_evaluation_enqueue(customer_ids)
    return created, customer_ids


def usage_charges_ingest(*, reseller: Reseller, rows: list[dict]) -> UsageIngest:
    """Record a batch of already-checked charges (from usage_charge_check), all or nothing, in one
    transaction of set-based statements: lock the batch's customers in ascending id, insert the
    batch skipping external ids already recorded, add each customer's sum of new charges to its
    `used`, add them to the daily rollups (UsageDaily) and set those customers' burn rate.

    Keeps: one charge per (reseller, external id), a repeat counted as a replay and not again (a
    repeat that differs in customer or amount refuses the whole batch, here or within the batch);
    only the reseller's own customers (the first other UIN refuses the batch); `used` and the daily
    rollups grow by exactly the sum of its charges. One evaluation task for the customers whose `used` grew is
    enqueued after commit."""
    batch: dict[str, dict] = {}
    for fields in rows:
        first = batch.get(fields["external_id"])
        if first is None:
            batch[fields["external_id"]] = fields
        elif (first["customer_uin"], first["amount"]) != (fields["customer_uin"], fields["amount"]):
            raise _usage_conflict(first["external_id"], amount=first["amount"], uin=first["customer_uin"])
    if not batch:
        return UsageIngest(0, 0, [])
    uins = sorted({fields["customer_uin"] for fields in batch.values()})
    for attempt in (1, 2):
        try:
            created, customer_ids = _usage_batch_apply(reseller, batch, uins)
            break
        except IntegrityError:
            # A concurrent batch recorded one of these external ids after our check: the second
            # attempt finds it recorded (a replay, or a conflict refusing the batch).
            if attempt == 2:
                raise
    return UsageIngest(created, len(rows) - created, customer_ids)


def usage_charge_record(
    *,
    reseller,
    customer_uin: int,
    amount,
    incurred_at,
    external_id: str,
    product: str = "",
    description: str = "",
    source: str = "api",
    region: str = "",
    pay_mode: str = "",
    instance_id: str = "",
) -> tuple[UsageCharge, bool]:
    """Record one usage charge (a batch of one, usage_charges_ingest) and return it with
    created=False when its external id was already recorded for the same charge."""
    fields = usage_charge_check(
        customer_uin=customer_uin,
        amount=amount,
        incurred_at=incurred_at,
        external_id=external_id,
        product=product,
        description=description,
        source=source,
        region=region,
        pay_mode=pay_mode,
        instance_id=instance_id,
    )
    result = usage_charges_ingest(reseller=reseller, rows=[fields])
    charge = UsageCharge.objects.select_related("customer").get(reseller=reseller, external_id=fields["external_id"])
    return charge, result.created == 1


# --- Usage charge partitions (PostgreSQL; migration 0007) ---------------------------------------

PARTITIONS_AHEAD = 3


def _month_start(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def usage_partitions_ensure(*, now: datetime | None = None, months_ahead: int = PARTITIONS_AHEAD) -> list[str]:
    """Make the monthly partitions of the usage charges (by the month, in UTC, a charge is recorded)
    for this month and the `months_ahead` after it, if missing; return the names made. Beat runs it
    daily, so a month's partition exists long before its first charge; with none (beat stopped for
    months) PostgreSQL refuses the insert ("no partition of relation … found for row") rather than
    putting the charge anywhere else. SQLite keeps a plain table: nothing to do."""
    if connection.vendor != "postgresql":
        return []
    now = (now or timezone.now()).astimezone(UTC)
    made = []
    with connection.cursor() as cursor:
        for offset in range(months_ahead + 1):
            start = _month_start(now.year, now.month + offset)
            end = _month_start(start.year, start.month + 1)
            name = f"credits_usagecharge_y{start.year:04d}m{start.month:02d}"
            cursor.execute("SELECT to_regclass(%s) IS NULL", [name])
            if cursor.fetchone()[0]:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF credits_usagecharge "
                    "FOR VALUES FROM (%s) TO (%s)", [start, end]
                )
                made.append(name)
    return made


DEMO_PRODUCTS = ("CVM", "COS", "CDN", "TencentDB")
DEMO_REGIONS = ("ap-singapore", "ap-hongkong", "ap-bangkok", "na-siliconvalley")


def usage_simulate(*, reseller: Reseller, charges: int = 5, rng=None) -> list:
    """Demo usage: `charges` small random charges (0.5–3 % of credit), plus one customer between
    75 % and 90 % pushed just past 90 % so that an alert appears while you watch. The charges go in
    as one batch through usage_charges_ingest (source "simulator"); returns the charges recorded."""
    import random
    import uuid

    rng = rng or random.Random()
    customers = Customer.objects.filter(reseller=reseller, balance__credit__gt=0)
    rows = []
    now = timezone.now()

    def charge(customer_uin: int, amount: Decimal):
        amount = max(amount.quantize(CENT), CENT)
        rows.append(usage_charge_check(
            customer_uin=customer_uin, amount=amount, incurred_at=now,
            external_id=f"sim-{uuid.uuid4().hex}", product=rng.choice(DEMO_PRODUCTS),
            description="Demo usage", source="simulator", region=rng.choice(DEMO_REGIONS),
            pay_mode=rng.choice(PAY_MODES),
        ))

    columns = ("uin", "balance__credit", "balance__used")
    target = customers.filter(balance__usage_band=75).order_by("?").values_list(*columns).first()
    if target is None:
        target = customers.filter(balance__usage_band=0).order_by("-balance__used").values_list(*columns).first()
    if target is not None:
        uin, credit, used = target
        charge(uin, credit * Decimal("0.905") - used)
    count = customers.count()
    for _ in range(charges if count else 0):
        uin, credit = customers.order_by("id").values_list("uin", "balance__credit")[rng.randrange(count)]
        charge(uin, credit * Decimal(rng.randint(5, 30)) / Decimal(1000))
    if not rows:
        return []
    usage_charges_ingest(reseller=reseller, rows=rows)
    order = {fields["external_id"]: n for n, fields in enumerate(rows)}
    recorded = UsageCharge.objects.select_related("customer").filter(reseller=reseller, external_id__in=list(order))
    return sorted(recorded, key=lambda c: order[c.external_id])
