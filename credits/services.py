"""Every write to pools, allocations and applications goes through here."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, Reseller
from partnercenter.errors import (
    DomainError,
    IdempotencyConflict,
    InsufficientPoolBalance,
    InvalidValue,
    NotFound,
    RepossessTooMuch,
)

from .models import AllocationRecord, CreditPool, PoolApplication, PoolGrant
from .money import parse_amount

REMARK_MAX = 255
IDEMPOTENCY_KEY_MAX = 64

_after_allocation_hooks = []


def on_allocation_committed(hook):
    """Register `hook(record)` to run after an allocation commits (e.g. threshold evaluation)."""
    _after_allocation_hooks.append(hook)
    return hook


def _operator_name(actor, operator_name: str | None) -> str:
    if operator_name:
        return operator_name[:150]
    if actor is not None:
        return actor.get_username()
    return "system"


def _check_remark(remark: str) -> str:
    remark = (remark or "").strip()
    if len(remark) > REMARK_MAX:
        raise InvalidValue(
            f"The remark is {len(remark)} characters long; it can be at most {REMARK_MAX}.",
            code="InvalidParameterValue.RemarkTooLong",
            field="remark",
        )
    return remark


def pool_for(reseller: Reseller) -> CreditPool:
    pool, _ = CreditPool.objects.get_or_create(reseller=reseller)
    return pool


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
) -> AllocationRecord:
    """Add the signed `amount` to the customer's credit (negative repossesses).

    Keeps, in one transaction with the pool and customer rows locked in that order:
    amount <= pool.remaining when allocating; |amount| <= max(available, 0) when repossessing;
    pool.remaining + sum(customer credit) == pool.total; one immutable record per operation.
    A repeated idempotency key returns the first record and changes nothing.
    """
    amount = parse_amount(amount)
    remark = _check_remark(remark)
    if idempotency_key is not None:
        idempotency_key = str(idempotency_key).strip()
        if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
            raise InvalidValue(
                f"The idempotency key must be 1 to {IDEMPOTENCY_KEY_MAX} characters.",
                code="InvalidParameterValue.ClientToken",
            )
    customer_id = customer.pk if isinstance(customer, Customer) else int(customer)

    try:
        with transaction.atomic():
            # Lock order is fixed (pool, then customer) so that two operations never deadlock.
            pool = CreditPool.objects.select_for_update().filter(reseller=reseller).first()
            if pool is None:
                CreditPool.objects.get_or_create(reseller=reseller)
                pool = CreditPool.objects.select_for_update().get(reseller=reseller)
            if idempotency_key is not None:
                # Checked under the pool lock: a concurrent twin has committed by now.
                previous = AllocationRecord.objects.filter(
                    reseller=reseller, idempotency_key=idempotency_key
                ).first()
                if previous is not None:
                    return _replay(previous, customer_id=customer_id, amount=amount)
            locked = (
                Customer.objects.select_for_update()
                .filter(pk=customer_id, reseller=reseller)
                .only("id", "uin", "credit", "used", "reseller_id")
                .first()
            )
            if locked is None:
                raise NotFound(
                    "This customer does not exist or is not bound to your account.",
                    code="UnauthorizedOperation.UinNoAuth",
                )
            available = locked.credit - locked.used
            if amount > 0 and amount > pool.remaining:
                raise InsufficientPoolBalance(
                    f"Your remaining customer credit is {pool.remaining:,.2f} USD; you cannot allocate "
                    f"{amount:,.2f} USD. Apply to your channel manager for more customer credit."
                )
            if amount < 0 and -amount > max(available, Decimal("0.00")):
                raise RepossessTooMuch(
                    "The maximum credit you can repossess must be not greater than the customer's "
                    f"available credit ({max(available, Decimal('0.00')):,.2f} USD)."
                )
            now = timezone.now()
            pool.remaining -= amount
            pool.updated_at = now
            pool.save(update_fields=["remaining", "updated_at"])
            locked.credit += amount
            Customer.objects.filter(pk=locked.pk).update(credit=locked.credit)
            record = AllocationRecord.objects.create(
                created_at=now,
                reseller=reseller,
                customer_id=locked.pk,
                amount=amount,
                credit_after=locked.credit,
                available_after=locked.credit - locked.used,
                pool_remaining_after=pool.remaining,
                operator=actor,
                operator_name=_operator_name(actor, operator_name),
                source=source,
                remark=remark,
                idempotency_key=idempotency_key,
            )
            for hook in _after_allocation_hooks:
                transaction.on_commit(lambda hook=hook, record=record: hook(record))
            return record
    except IntegrityError:
        # Only a key raced in by another path (e.g. without a pool lock) lands here.
        if idempotency_key is not None:
            previous = AllocationRecord.objects.filter(reseller=reseller, idempotency_key=idempotency_key).first()
            if previous is not None:
                return _replay(previous, customer_id=customer_id, amount=amount)
        raise


def _replay(previous: AllocationRecord, *, customer_id: int, amount: Decimal) -> AllocationRecord:
    if previous.customer_id != customer_id or previous.amount != amount:
        raise IdempotencyConflict(
            "This request token was already used for a different allocation "
            f"({previous.amount:+,.2f} USD to customer {previous.customer.uin}). Use a new token."
        )
    previous.replayed = True
    return previous


def pool_grant(
    *, reseller: Reseller, amount, actor=None, note: str = "", application: PoolApplication | None = None
) -> PoolGrant:
    """Add an approved grant to the pool: total and remaining both grow by `amount`."""
    amount = parse_amount(amount, allow_negative=False, limit=Decimal("9999999999.99"))
    with transaction.atomic():
        CreditPool.objects.get_or_create(reseller=reseller)
        pool = CreditPool.objects.select_for_update().get(reseller=reseller)
        pool.total += amount
        pool.remaining += amount
        pool.updated_at = timezone.now()
        pool.save(update_fields=["total", "remaining", "updated_at"])
        return PoolGrant.objects.create(
            reseller=reseller, amount=amount, granted_by=actor, note=(note or "")[:255], application=application
        )


def pool_application_submit(*, reseller: Reseller, amount, reason: str, actor=None) -> PoolApplication:
    amount = parse_amount(amount, allow_negative=False, limit=Decimal("9999999999.99"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue("Tell your channel manager why you need the credit.", field="reason")
    if len(reason) > 1000:
        raise InvalidValue("The reason can be at most 1000 characters.", field="reason")
    return PoolApplication.objects.create(reseller=reseller, amount=amount, reason=reason, submitted_by=actor)


def _review(application_id: int, *, actor, note: str, status: str) -> PoolApplication:
    application = PoolApplication.objects.select_for_update().select_related("reseller").get(pk=application_id)
    if application.status != PoolApplication.Status.PENDING:
        raise DomainError(
            f"This application was already {application.status}; only pending applications can be reviewed.",
            code="FailedOperation.ApplicationReviewed",
        )
    application.status = status
    application.reviewed_by = actor
    application.reviewed_at = timezone.now()
    application.review_note = (note or "")[:255]
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
