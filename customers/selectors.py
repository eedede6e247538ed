"""Reads for the reseller console, every one already scoped to the signed-in member's reseller.

A customer or record of another reseller is simply not in these querysets, so a view that fetches
through them answers 404 for it."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from credits.models import AllocationRecord, CreditPool, PoolApplication

from .models import Customer, Member, Reseller

# The columns My Customers shows (and its export writes); the rest of the row stays in the table.
CUSTOMER_LIST_FIELDS = (
    "id", "uin", "reseller_id", "name", "remark", "email", "phone", "bound_at",
    "credit", "used", "available", "usage_band", "account_status",
)


def member_for_user(user) -> Member | None:
    """The user's membership with its reseller in one query; None for a user of no reseller."""
    if not user.is_authenticated:
        return None
    return Member.objects.select_related("reseller").filter(user=user).first()


def customer_list(*, reseller: Reseller) -> QuerySet[Customer]:
    return Customer.objects.filter(reseller=reseller).only(*CUSTOMER_LIST_FIELDS)


def customer_get(*, reseller: Reseller, uin: int) -> Customer:
    return get_object_or_404(Customer, reseller=reseller, uin=uin)


def pool_figures(*, reseller: Reseller) -> dict:
    """Total, allocated and remaining customer credit: one indexed row, no aggregate."""
    pool = CreditPool.objects.filter(reseller=reseller).only("total", "remaining").first()
    pool = pool or CreditPool(reseller=reseller)
    return {"total": pool.total, "remaining": pool.remaining, "allocated": pool.allocated}


def allocation_records(*, reseller: Reseller, customer: Customer | None = None) -> QuerySet[AllocationRecord]:
    """Newest first, with the customer's UIN and name joined in (the page shows 20 at a time)."""
    records = AllocationRecord.objects.filter(reseller=reseller)
    if customer is not None:
        records = records.filter(customer=customer)
    return records.select_related("customer").only(
        "id", "created_at", "amount", "credit_after", "available_after", "pool_remaining_after",
        "operator_name", "source", "remark", "customer__uin", "customer__name",
    ).order_by("-created_at", "-id")


def latest_allocations(*, reseller: Reseller, customer: Customer | None = None, limit: int = 8) -> list[AllocationRecord]:
    return list(allocation_records(reseller=reseller, customer=customer)[:limit])


def pool_applications(*, reseller: Reseller, limit: int = 10) -> list[PoolApplication]:
    return list(PoolApplication.objects.filter(reseller=reseller).order_by("-submitted_at", "-id")[:limit])
