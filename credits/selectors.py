"""Reads for credits, scoped to a reseller where a view needs them."""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from core.rules import THRESHOLDS, band_label
from customers.models import AccountStatus, Customer, CustomerBalance, Reseller

from .models import AllocationRecord, CreditPool, PoolApplication, PoolGrant

ZERO = Decimal("0.00")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LedgerMismatch:
    reseller: str
    what: str
    expected: Decimal
    actual: Decimal

    def __str__(self) -> str:
        return f"{self.reseller}: {self.what}: expected {self.expected}, found {self.actual}"


def ledger_mismatches() -> list[LedgerMismatch]:
    """Every breach of DESIGN §2 conservation, computed in SQL (one query per check)."""
    problems: list[LedgerMismatch] = []
    grants = dict(PoolGrant.objects.values("reseller_id").annotate(s=Sum("amount")).values_list("reseller_id", "s"))
    credit_sums = dict(
        CustomerBalance.objects.values("reseller_id").annotate(s=Sum("credit")).values_list("reseller_id", "s")
    )
    for pool in CreditPool.objects.select_related("reseller"):
        name = str(pool.reseller)
        total_grants = grants.get(pool.reseller_id) or ZERO
        if pool.total != total_grants:
            problems.append(LedgerMismatch(name, "pool total vs sum of grants", total_grants, pool.total))
        customers_credit = credit_sums.get(pool.reseller_id) or ZERO
        if pool.total != pool.remaining + customers_credit:
            problems.append(
                LedgerMismatch(name, "pool total vs remaining + customers' credit", pool.total, pool.remaining + customers_credit)
            )
    # Each customer has one balance, of its own reseller (the pool sums above count balances).
    for reseller_name, reseller_uin, uin in (
        Customer.objects.filter(Q(balance__isnull=True) | ~Q(balance__reseller=F("reseller")))
        .values_list("reseller__name", "reseller__uin", "uin")
    ):
        problems.append(
            LedgerMismatch(f"{reseller_name} ({reseller_uin})", f"customer {uin} has no balance of its reseller", ZERO, ZERO)
        )
    record_sum = (
        AllocationRecord.objects.filter(customer=OuterRef("customer_id"))
        .values("customer")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    drifted = CustomerBalance.objects.annotate(records=Coalesce(Subquery(record_sum), ZERO))
    if connection.vendor == "postgresql":
        # numeric is exact there, so the database can do the comparison; elsewhere compare below.
        drifted = drifted.exclude(credit=F("records"))
    rows = drifted.values_list("customer__reseller__name", "customer__reseller__uin", "customer__uin", "credit", "records")
    for reseller_name, reseller_uin, uin, credit, records in rows.iterator(chunk_size=2000):
        records = Decimal(records).quantize(Decimal("0.01"))
        if credit != records:
            problems.append(
                LedgerMismatch(f"{reseller_name} ({reseller_uin})", f"customer {uin} credit vs sum of its records", records, credit)
            )
    return problems


@dataclass(frozen=True)
class UsageBand:
    threshold: int
    label: str
    customers: int


# How long the Overview's customer counts may be reused. Counting 100,000 customers by usage band
# reads the whole (reseller, usage_band) index, several times the rest of the page; counts half a
# minute old do no harm (the pool figures beside them are always current).
OVERVIEW_COUNTS_SECONDS = 30


def customer_counts(reseller: Reseller) -> dict:
    """The number of the reseller's customers (`customers`), per default threshold t of those
    that have reached it (`band_<t>`), and per account status s (`status_<s>`): one query, kept OVERVIEW_COUNTS_SECONDS in the cache."""
    key = f"overview:customer-counts:v2:{reseller.pk}:{reseller.uin}:{reseller.created_at.timestamp()}"
    try:
        counts = cache.get(key)
    except Exception:  # an unreachable cache only costs the counting
        logger.warning("customer counts not cached: the cache is unavailable", exc_info=True)
        counts = None
    if counts is None:
        # Every customer has one balance, and the balance table is the narrow one to count.
        counts = CustomerBalance.objects.filter(reseller=reseller).aggregate(
            customers=Count("pk"),
            **{f"band_{t}": Count("pk", filter=Q(usage_band__gte=t)) for t in THRESHOLDS},
            **{f"status_{s}": Count("pk", filter=Q(status=s)) for s in AccountStatus.values},
        )
        try:
            cache.set(key, counts, OVERVIEW_COUNTS_SECONDS)
        except Exception:
            logger.warning("customer counts not cached: the cache is unavailable", exc_info=True)
    return counts


def pool_summary(reseller: Reseller) -> dict:
    """The pool figures, the number of customers, for each default threshold how many customers
    have reached it (`bands`, lowest threshold first), and per account status (`statuses`: value,
    label, count). The pool's figures are read
    every time; the counts come from customer_counts."""
    counts = customer_counts(reseller)
    bands = [UsageBand(t, band_label(t), counts[f"band_{t}"]) for t in THRESHOLDS]
    statuses = [(value, label, counts.get(f"status_{value}", 0)) for value, label in AccountStatus.choices]
    return {**pool_figures(reseller=reseller), "customers": counts["customers"], "bands": bands, "statuses": statuses}


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


def latest_repayments(*, customer: Customer, limit: int = 10) -> list:
    """The customer's latest confirmed repayments, newest first."""
    return list(customer.repayments.order_by("-created_at", "-id")[:limit])



class PayMode:
    PREPAID = "PREPAID"
    POSTPAID = "POSTPAID"
    CHOICES = (PREPAID, POSTPAID)


@dataclass(frozen=True)
class PurchaseAnswer:
    """CheckCustomerPurchase's answer: allowed, or the rule that refused it (a stable code) and why."""

    allowed: bool
    code: str = ""
    message: str = ""


def purchase_check(*, reseller: Reseller, customer: Customer, amount: Decimal, pay_mode: str) -> PurchaseAnswer:
    """May the customer make a new purchase of `amount` USD (DESIGN §4)? It must be neither frozen
    nor overdue; a prepaid purchase needs available ≥ amount; and the reseller's pool must not be
    exhausted. The first rule that fails is the answer. A read: nothing is reserved or written."""
    from django.utils.translation import gettext

    from core.money import format_money

    balance = CustomerBalance.objects.get(pk=customer.pk)
    if balance.frozen:
        return PurchaseAnswer(False, "FailedOperation.CustomerFrozen",
                              gettext("The customer is frozen by its reseller: no new purchases until it is unfrozen."))
    if balance.available < 0:
        return PurchaseAnswer(False, "FailedOperation.CustomerOverdue",
                              gettext("The customer is overdue (available credit %(available)s USD): no new purchases "
                                      "until credit brings it back to 0 or more.")
                              % {"available": format_money(balance.available)})
    if pay_mode == PayMode.PREPAID and balance.available < amount:
        return PurchaseAnswer(False, "FailedOperation.CustomerCreditInsufficient",
                              gettext("The customer's available credit (%(available)s USD) is below the prepaid "
                                      "amount (%(amount)s USD).")
                              % {"available": format_money(balance.available), "amount": format_money(amount)})
    remaining = CreditPool.objects.filter(reseller=reseller).values_list("remaining", flat=True).first() or ZERO
    if remaining <= 0:
        return PurchaseAnswer(False, "FailedOperation.PoolExhausted",
                              gettext("The reseller's customer-credit pool is exhausted (0.00 USD remaining)."))
    return PurchaseAnswer(True)


@dataclass
class DailySpend:
    """A customer's spend per day (in its reseller's zone) and product: `days` oldest first, each
    with {product: amount}; `products` sorted; `totals` per day and per product."""

    days: list
    products: list[str]
    by_day: dict
    day_totals: dict
    product_totals: dict
    total: Decimal


def customer_daily_spend(*, customer: Customer, zone, today, days: int = 30) -> DailySpend:
    """The last `days` days (today included) of the customer's usage charges, summed per day and
    product in one grouped query over the customer's charges since then (usage_charge_customer_time).
    Days without usage are in the list with nothing spent. Computed from the charges until daily
    rollups exist."""
    from datetime import datetime, time, timedelta

    from django.db.models.functions import TruncDate

    from .models import UsageCharge

    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=zone)
    rows = (
        UsageCharge.objects.filter(customer=customer, incurred_at__gte=since)
        .annotate(day=TruncDate("incurred_at", tzinfo=zone))
        .values("day", "product")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    by_day: dict = {first + timedelta(days=n): {} for n in range(days)}
    products: set[str] = set()
    for row in rows:
        if row["day"] not in by_day:
            continue  # incurred "tomorrow" in the zone (a clock ahead): not one of these days
        product = row["product"] or "—"
        by_day[row["day"]][product] = row["amount"]
        products.add(product)
    zero = Decimal("0.00")
    day_totals = {day: sum(spent.values(), zero) for day, spent in by_day.items()}
    product_totals = {product: sum((spent.get(product, zero) for spent in by_day.values()), zero) for product in products}
    return DailySpend(days=list(by_day), products=sorted(products), by_day=by_day, day_totals=day_totals,
                      product_totals=product_totals, total=sum(day_totals.values(), zero))
