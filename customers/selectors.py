"""Reads for the reseller console, every one already scoped to the signed-in member's reseller.

A customer or record of another reseller is simply not in these querysets, so a view that fetches
through them answers 404 for it."""

from collections import namedtuple
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from console.tables import values_rows
from core.prepared import PreparedQuery, PreparedValue

from .models import (
    AccountStatus,
    Application,
    Customer,
    CustomerBalance,
    Invitation,
    Reseller,
    StatusEvent,
    days_until,
    deletion_at_of,
)

# The columns My Customers shows (and its export writes); the rest of the row stays in the table.
CUSTOMER_LIST_FIELDS = (
    "id", "uin", "reseller_id", "name", "remark", "email", "phone", "bound_at",
    "credit", "used", "available", "usage_band", "days_to_zero", "account_status", "frozen", "suspended_at",
)
# The balance's columns, read through the customer's properties (account_status: the balance's status).
_BALANCE_FIELDS = {"credit": "credit", "used": "used", "available": "available", "usage_band": "usage_band",
                   "days_to_zero": "days_to_zero", "account_status": "status", "frozen": "frozen",
                   "suspended_at": "suspended_at"}


def customer_list(*, reseller: Reseller) -> QuerySet[Customer]:
    """The reseller's customers with their balances (one join, no query per row). Counting them
    reads the customer table alone; a sort or filter on the balance says that the balance has the
    customer's reseller (tables.py, filters.py), so that the balance's per-reseller index serves it."""
    return (
        Customer.objects.filter(reseller=reseller)
        .select_related("balance")
        .only(*(f"balance__{_BALANCE_FIELDS[name]}" if name in _BALANCE_FIELDS else name for name in CUSTOMER_LIST_FIELDS))
    )


class CustomerRow(namedtuple("CustomerRowValues", CUSTOMER_LIST_FIELDS)):
    """One customer of My Customers as the list reads it: its columns and its balance's, as plain
    values under the names the Customer model reads them by (credit, account_status, ...), and the
    same derived values (its status's label, the days until its data deletion). Building a Customer
    and a CustomerBalance per row cost the list about as much as its SQL (bench/console.py);
    CustomerTable.render_row writes a row from either."""

    __slots__ = ()

    @property
    def pk(self) -> int:
        return self.id

    def get_account_status_display(self) -> str:
        return AccountStatus(self.account_status).label

    @property
    def deletion_at(self):
        return deletion_at_of(self.account_status, self.suspended_at)

    @property
    def days_until_deletion(self) -> int | None:
        return days_until(self.deletion_at)


def customer_rows(customers: QuerySet[Customer]) -> QuerySet:
    """`customers` (customer_list, filtered) giving CustomerRow values instead of model instances."""
    return values_rows(customers, CustomerRow, [f"balance__{_BALANCE_FIELDS[name]}" if name in _BALANCE_FIELDS else name
                                                for name in CUSTOMER_LIST_FIELDS])


def balances_matching(*, reseller: Reseller | int, conditions: dict) -> QuerySet[CustomerBalance]:
    """The reseller's balances matching `conditions` (lookups on the balance: CustomerFilter's)."""
    return CustomerBalance.objects.filter(reseller=reseller, **conditions)


# A sample value of each lookup CustomerFilter.BALANCE_LOOKUPS names (core.prepared: of the type the
# ORM sends it as, days to zero being a decimal, and distinct from any other parameter of the count).
_BALANCE_SAMPLES = {"status": "sample-status", "usage_band__gte": -2, "days_to_zero__lte": Decimal(-3)}
_BALANCE_COUNTS: dict = {}


def balances_matching_count(*, reseller: Reseller, conditions: dict, limit: int) -> int:
    """How many of the reseller's balances match `conditions`, counting at most `limit`: My Customers
    filtered on the balance alone, on every such page. One statement per set of lookups and limit,
    compiled once per database connection (core.prepared) instead of by the ORM on every request."""
    names = tuple(sorted(conditions))
    prepared = _BALANCE_COUNTS.get((names, limit))
    if prepared is None:
        def count(*, using, reseller_id, **values):
            return balances_matching(reseller=reseller_id, conditions=values).using(using).order_by()[:limit].count()

        prepared = _BALANCE_COUNTS.setdefault(
            (names, limit), PreparedValue(count, reseller_id=-1, **{name: _BALANCE_SAMPLES[name] for name in names}))
    return prepared.get(reseller_id=reseller.pk, **conditions)


def _customer_with_balance(*, reseller_id: int, uin: int) -> QuerySet[Customer]:
    return Customer.objects.select_related("balance").filter(reseller_id=reseller_id, uin=uin)


# Every page and dialog of one customer reads it first: compiled once per connection (core.prepared).
_CUSTOMER_WITH_BALANCE = PreparedQuery(_customer_with_balance, reseller_id=-1, uin=-2)
_BIGINT = range(-(2**63), 2**63)


def customer_get(*, reseller: Reseller, uin: int) -> Customer:
    """The reseller's customer with its balance; 404 for another reseller's or no customer (a UIN
    beyond the column's range included, which the ORM would not send either)."""
    found = _CUSTOMER_WITH_BALANCE.all(reseller_id=reseller.pk, uin=int(uin)) if int(uin) in _BIGINT else []
    if len(found) != 1:
        raise Http404(f"No {Customer._meta.object_name} matches the given query.")
    return found[0]


def status_events(*, customer: Customer, limit: int = 100) -> list[StatusEvent]:
    """The customer's account status timeline, newest first (its own index)."""
    return list(StatusEvent.objects.filter(customer=customer).order_by("-created_at", "-id")[:limit])


def invitation_list(*, reseller: Reseller) -> QuerySet[Invitation]:
    return Invitation.objects.filter(reseller=reseller).select_related("application").order_by("-created_at", "-id")


def pending_applications(*, reseller: Reseller) -> QuerySet[Application]:
    """The reseller's applications waiting for a decision, newest first (partial index application_pending)."""
    return Application.objects.filter(reseller=reseller, status=Application.Status.PENDING).order_by("-applied_at", "-id")


def pending_application_get(*, reseller: Reseller, uin: int) -> Application:
    return get_object_or_404(pending_applications(reseller=reseller), uin=uin)
