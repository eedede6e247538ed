"""Reads for credits, scoped to a reseller where a view needs them."""

import logging
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from console.tables import values_rows
from core.prepared import PreparedQuery
from core.rules import THRESHOLDS, band_label
from customers.models import AccountStatus, Customer, CustomerBalance, Reseller

from .models import AllocationRecord, CreditPool, PoolApplication, PoolGrant, UsageCharge, UsageDaily

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


# The reads every Overview (and the pool strip of My Customers) sends, of a fixed shape: compiled
# once per connection (core.prepared), as compiling each cost more than the database took to answer.
_POOL = PreparedQuery(lambda reseller_id: CreditPool.objects.filter(reseller_id=reseller_id)
                      .only("total", "remaining").order_by("pk")[:1], reseller_id=-1)


def pool_figures(*, reseller: Reseller) -> dict:
    """Total, allocated and remaining customer credit: one indexed row, no aggregate."""
    found = _POOL.all(reseller_id=reseller.pk)
    pool = found[0] if found else CreditPool(reseller=reseller)
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


LATEST_ALLOCATIONS = 8
_LATEST_ALLOCATIONS = PreparedQuery(
    lambda reseller_id: allocation_records(reseller=reseller_id)[:LATEST_ALLOCATIONS], reseller_id=-1)


RECORD_LIST_FIELDS = ("id", "created_at", "amount", "credit_after", "available_after", "pool_remaining_after",
                      "operator_name", "source", "remark", "customer__uin", "customer__name")


class RecordRow(namedtuple("RecordRowValues", [name.replace("__", "_") for name in RECORD_LIST_FIELDS])):
    """One allocation record of a list, as plain values: its columns and its customer's UIN and
    name (customer_uin, customer_name). AllocationRecordTable writes a page of them."""

    __slots__ = ()

    def get_source_display(self) -> str:
        return AllocationRecord.Source(self.source).label


def record_rows(records: QuerySet[AllocationRecord]) -> QuerySet:
    """`records` (allocation_records, filtered) giving RecordRow values instead of model instances."""
    return values_rows(records, RecordRow, RECORD_LIST_FIELDS)


def latest_allocations(*, reseller: Reseller, customer: Customer | None = None, limit: int = LATEST_ALLOCATIONS) -> list[AllocationRecord]:
    if customer is None and limit == LATEST_ALLOCATIONS:  # the Overview's
        return _LATEST_ALLOCATIONS.all(reseller_id=reseller.pk)
    return list(allocation_records(reseller=reseller, customer=customer)[:limit])


POOL_APPLICATIONS = 10
_POOL_APPLICATIONS = PreparedQuery(
    lambda reseller_id: PoolApplication.objects.filter(reseller_id=reseller_id).order_by("-submitted_at", "-id")[:POOL_APPLICATIONS],
    reseller_id=-1)


def pool_applications(*, reseller: Reseller) -> list[PoolApplication]:
    return _POOL_APPLICATIONS.all(reseller_id=reseller.pk)


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


# --- Usage (DESIGN §8): every figure from the daily rollups, never a scan of the charges --------

SPEND_RANGES = (30, 90, 365)


@dataclass(frozen=True)
class DailySpend:
    """A customer's daily spend over `days` days ending today (reseller's zone), by product: one
    amount per day and product (0.00 where nothing was charged), and each day's total."""

    days: list
    products: list[str]
    amounts: dict[str, list[Decimal]]
    totals: list[Decimal]

    @property
    def rows(self) -> list[tuple]:
        """(day, [amount per product], total) for the accessible table."""
        return [(day, [self.amounts[p][i] for p in self.products], self.totals[i]) for i, day in enumerate(self.days)]

    @property
    def total(self) -> Decimal:
        return sum(self.totals, ZERO)

    def as_chart_data(self) -> dict:
        """The chart's data island (static/js/charts.js): the same figures as the table, money as
        strings, one series per product, stacked."""
        return chart_data([d.isoformat() for d in self.days],
                          {p or "—": self.amounts[p] for p in self.products}, x_label=gettext("Day"), time=True,
                          stacked=True)


def chart_data(labels: list[str], series: dict[str, list], *, x_label: str, time: bool = False,
               stacked: bool = False) -> dict:
    """What static/js/charts.js draws: x labels (ISO dates when `time`) and what they are (`x_label`,
    translated: the chart's legend names it), and one list of figures per named series (money as
    strings, so the browser shows the exact figures of the table)."""
    return {"labels": labels, "x_label": x_label, "time": time, "stacked": stacked,
            "series": [{"name": name, "values": [str(v) for v in values]} for name, values in series.items()]}


def daily_spend(*, customer: Customer, today, days: int) -> DailySpend:
    """One indexed read of the customer's rollups (usage_daily_customer_day)."""
    first = today - timedelta(days=days - 1)
    rows = (UsageDaily.objects.filter(customer=customer, day__gte=first, day__lte=today)
            .values_list("day", "product").annotate(spent=Sum("amount")).order_by())
    by_key = {(day, product): spent for day, product, spent in rows}
    products = sorted({product for _, product in by_key}, key=lambda p: (p == "", p))
    dates = [first + timedelta(days=n) for n in range(days)]
    amounts = {p: [Decimal(by_key.get((d, p), ZERO)).quantize(Decimal("0.01")) for d in dates] for p in products}
    totals = [sum((amounts[p][i] for p in products), ZERO) for i in range(days)]
    return DailySpend(dates, products, amounts, totals)


def usage_charges(*, reseller: Reseller, customer: Customer, product: str = "", pay_mode: str = "") -> QuerySet:
    """The customer's charges, newest incurred first (usage_charge_customer_time)."""
    charges = UsageCharge.objects.filter(reseller=reseller, customer=customer)
    if product:
        charges = charges.filter(product=product)
    if pay_mode:
        charges = charges.filter(pay_mode=pay_mode)
    return charges.order_by("-incurred_at", "-id")


def usage_products(*, customer: Customer) -> list[str]:
    """The products the customer has been charged for (from its rollups)."""
    return sorted(set(UsageDaily.objects.filter(customer=customer).values_list("product", flat=True).distinct()))


def usage_totals(*, customer: Customer, first, last, group: str | None = None, pay_mode: str = "") -> list[tuple]:
    """The customer's spend from `first` to `last` (days, inclusive) from its rollups: one
    (None, total, charges) row, or one per value of `group` (product, region or pay_mode)."""
    rows = UsageDaily.objects.filter(customer=customer, day__gte=first, day__lte=last)
    if pay_mode:
        rows = rows.filter(pay_mode=pay_mode)
    if group is None:
        spent = rows.aggregate(spent=Sum("amount"), charges=Sum("charges"))
        return [(None, Decimal(spent["spent"] or ZERO).quantize(Decimal("0.01")), spent["charges"] or 0)]
    return [(key, Decimal(spent).quantize(Decimal("0.01")), charges)
            for key, spent, charges in rows.values_list(group).annotate(s=Sum("amount"), c=Sum("charges"))
            .order_by(group).values_list(group, "s", "c")]


# --- The Overview's charts (DESIGN §8) --------------------------------------------------------------

OVERVIEW_HISTORY_DAYS = 90
TOP_SPENDERS = 10
RUNS_OUT_SOON_DAYS = 7


def pool_allocated_history(*, reseller: Reseller, today, days: int = OVERVIEW_HISTORY_DAYS, allocated=None) -> list[tuple]:
    """(day, allocated at the end of that day) for the last `days` days: today's allocated figure
    (the pool's, always current) less the net allocations recorded after each day.

    Allocation records are immutable and written at the time they happen, so the net of a day
    before today never changes, nor does the net of every record before today: those sums (a read
    of all the reseller's records, up to a second at millions of records) are kept in the cache
    until the day ends. Today's net is then the pool's allocated figure (the net of every record,
    DESIGN §2) less the net before today, with no read of today's records: a reseller's records
    of today cannot be counted through an index the planner trusts when another reseller wrote
    a large part of the table today, and a scan of the table on every view cost ~300 ms at
    2,000,000 records. Without the cache (or in the day's first minute, while a transaction begun
    before midnight may still commit) the sums are read every time. `allocated`: the pool's
    allocated figure when the caller has just read it (the Overview's summary), so that the page
    shows one figure; otherwise it is read here."""
    first = today - timedelta(days=days - 1)
    zone = reseller.zone
    start_of_today = timezone_aware_midnight(today, zone)
    key = f"overview:allocated-days:{reseller.pk}:{reseller.uin}:{first.isoformat()}:{today.isoformat()}:{reseller.time_zone}"
    try:
        cached = cache.get(key)
    except Exception:  # an unreachable cache only costs the reading
        logger.warning("allocation history not cached: the cache is unavailable", exc_info=True)
        cached = None
    if cached is None:
        past = _net_by_day(reseller, timezone_aware_midnight(first, zone), start_of_today)
        earlier = AllocationRecord.objects.filter(reseller=reseller, created_at__lt=timezone_aware_midnight(first, zone))
        cached = (past, sum(past.values(), earlier.aggregate(net=Sum("amount"))["net"] or ZERO))
        if timezone.now() >= start_of_today + DAY_SETTLES_AFTER:
            try:
                cache.set(key, cached, ALLOCATED_HISTORY_SECONDS)
            except Exception:
                logger.warning("allocation history not cached: the cache is unavailable", exc_info=True)
    past, before_today = cached
    if allocated is None:
        allocated = pool_figures(reseller=reseller)["allocated"]
    moved = {**past, today: allocated - before_today}
    history = []
    for n in range(days - 1, -1, -1):
        day = first + timedelta(days=n)
        history.append((day, allocated))
        allocated -= moved.get(day, ZERO)
    return history[::-1]


ALLOCATED_HISTORY_SECONDS = 86400
DAY_SETTLES_AFTER = timedelta(minutes=1)


def _net_by_day(reseller: Reseller, start, end) -> dict:
    """Net allocations per day (in the reseller's zone) recorded from `start` to before `end`."""
    records = AllocationRecord.objects.filter(reseller=reseller, created_at__gte=start)
    if end is not None:
        records = records.filter(created_at__lt=end)
    return dict(records.annotate(day=TruncDate("created_at", tzinfo=reseller.zone)).values("day")
                .annotate(net=Sum("amount")).order_by().values_list("day", "net"))


def timezone_aware_midnight(day, zone) -> datetime:
    return datetime.combine(day, time.min, zone)


def usage_band_counts(*, reseller: Reseller) -> list[tuple[str, int]]:
    """How many customers are in each usage band, each counted once: below the first threshold,
    then from each threshold to the next (from customer_counts, kept 30 s)."""
    counts = customer_counts(reseller)
    thresholds = sorted(THRESHOLDS)
    bands = [(gettext("Below %(t)s %%") % {"t": thresholds[0]}, counts["customers"] - counts[f"band_{thresholds[0]}"])]
    for low, high in zip(thresholds, [*thresholds[1:], None]):
        reached = counts[f"band_{low}"] - (counts[f"band_{high}"] if high else 0)
        label = (gettext("%(low)s–%(high)s %%") % {"low": low, "high": high}) if high else (
            gettext("≥ %(low)s %%") % {"low": low})
        bands.append((label, reached))
    return bands


def top_spenders(*, reseller: Reseller, today) -> list[tuple[Customer, Decimal]]:
    """The TOP_SPENDERS customers that spent most over the burn-rate window (the last 7 days), with what
    they spent there: the highest burn rates (balance_reseller_burn_rate), then their 7 days of
    rollups (a few rows each)."""
    balances = _TOP_BURN_RATES.all(reseller_id=reseller.pk)
    first = today - timedelta(days=6)
    spent = dict(UsageDaily.objects.filter(customer_id__in=[b.customer_id for b in balances], day__gte=first,
                                           day__lte=today).values("customer_id").annotate(s=Sum("amount"))
                 .order_by().values_list("customer_id", "s"))
    return [(b.customer, Decimal(spent.get(b.customer_id, ZERO)).quantize(Decimal("0.01"))) for b in balances]


_TOP_BURN_RATES = PreparedQuery(
    lambda reseller_id: CustomerBalance.objects.filter(reseller_id=reseller_id, burn_rate__gt=0)
    .select_related("customer").order_by("-burn_rate", "customer_id")[:TOP_SPENDERS], reseller_id=-1)
RUNNING_OUT = 10


def _running_out(reseller_id: int, balance_reseller_id: int, within):
    return (Customer.objects.filter(reseller_id=reseller_id, balance__reseller_id=balance_reseller_id,
                                    balance__days_to_zero__lte=within)
            .select_related("balance").order_by("balance__days_to_zero", "id")[:RUNNING_OUT])


_RUNNING_OUT = PreparedQuery(_running_out, reseller_id=-1, balance_reseller_id=-2, within=Decimal(-3))


def running_out(*, reseller: Reseller, within: int = RUNS_OUT_SOON_DAYS) -> list[Customer]:
    """The first RUNNING_OUT customers whose credit runs out within `within` days at their burn
    rate, soonest first (the balance's (reseller, days_to_zero, customer) index)."""
    return _RUNNING_OUT.all(reseller_id=reseller.pk, balance_reseller_id=reseller.pk, within=within)
