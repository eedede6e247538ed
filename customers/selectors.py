"""Reads for the reseller console, every one already scoped to the signed-in member's reseller.

A customer or record of another reseller is simply not in these querysets, so a view that fetches
through them answers 404 for it."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import Customer, Reseller

# The columns My Customers shows (and its export writes); the rest of the row stays in the table.
CUSTOMER_LIST_FIELDS = (
    "id", "uin", "reseller_id", "name", "remark", "email", "phone", "bound_at",
    "credit", "used", "available", "usage_band", "account_status",
)


def customer_list(*, reseller: Reseller) -> QuerySet[Customer]:
    return Customer.objects.filter(reseller=reseller).only(*CUSTOMER_LIST_FIELDS)


def customer_get(*, reseller: Reseller, uin: int) -> Customer:
    return get_object_or_404(Customer, reseller=reseller, uin=uin)
