"""Seeing usage at scale (issue 11): the customer page and the Overview, My Customers sorted by days
to zero and filtered to "runs out within 7 days", with 100,000 customers and BENCH_USAGE_CHARGES
usage charges (default 10,000,000) spread over a year, their daily rollups and burn rates.

The charges are generated in PostgreSQL (generate_series, one INSERT … SELECT per month, with the
key table written set-based beside them rather than by the per-row trigger), then the rollups with
one INSERT … SELECT … GROUP BY and the burn rates with credits.services.burn_rates_refresh: the
same rows the ingestion would have made, loaded once per database. Each page is requested
BENCH_REPEAT times through Django's test Client and timed alternately with hand-written SQL for the
figures it shows. Targets: p95 <= 60 ms for both pages and for the days-to-zero sort."""

import os
import statistics
import time as clock
from datetime import timedelta

from bench.common import ensure_scale_dataset, line, percentile
from bench.console import _signed_in_client, _verdict, measure

CHARGES = int(os.environ.get("BENCH_USAGE_CHARGES", "10000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
TARGET_P95_MS = 60.0
DAYS = 365

_GENERATE = """
WITH c AS (SELECT customer_id, (row_number() OVER (ORDER BY customer_id)) - 1 AS n
           FROM customers_customerbalance WHERE reseller_id = %(reseller)s)
INSERT INTO credits_usagecharge (reseller_id, customer_id, amount, incurred_at, external_id, product, description,
                                 source, created_at, region, pay_mode, instance_id)
SELECT %(reseller)s, c.customer_id, ((g * 7919) %% 5000 + 1) / 100.0,
       x.t, 'bench-usage-' || g, (ARRAY['CVM', 'COS', 'CDN', 'TencentDB'])[1 + g %% 4], '', 'system',
       x.t + interval '1 hour', (ARRAY['ap-singapore', 'ap-hongkong', 'na-siliconvalley'])[1 + (g / 7) %% 3],
       CASE WHEN g %% 5 = 0 THEN 'prePay' ELSE 'postPay' END, ''
FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
JOIN c ON c.n = (g * 2654435761) %% %(customers)s
CROSS JOIN LATERAL (SELECT %(now)s::timestamptz - ((g * 40503) %% (%(days)s * 1440)) * interval '1 minute' AS t) x
"""
_KEYS = """
INSERT INTO credits_usagechargekey (reseller_id, external_id, customer_id, amount)
SELECT reseller_id, external_id, customer_id, amount FROM credits_usagecharge
WHERE reseller_id = %s AND external_id LIKE 'bench-usage-%%'
"""
_ROLLUPS = """
INSERT INTO credits_usagedaily (reseller_id, customer_id, day, product, region, pay_mode, amount, charges)
SELECT u.reseller_id, u.customer_id, (u.incurred_at AT TIME ZONE %s)::date, u.product, u.region, u.pay_mode,
       sum(u.amount), count(*)
FROM credits_usagecharge u WHERE u.reseller_id = %s AND u.external_id LIKE 'bench-usage-%%' GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (customer_id, day, product, region, pay_mode)
DO UPDATE SET amount = credits_usagedaily.amount + excluded.amount,
              charges = credits_usagedaily.charges + excluded.charges
"""
_USED = """
UPDATE customers_customerbalance b SET used = b.used + s.spent
FROM (SELECT customer_id, sum(amount) AS spent FROM credits_usagecharge
      WHERE reseller_id = %s AND external_id LIKE 'bench-usage-%%' GROUP BY 1) s
WHERE b.customer_id = s.customer_id
"""


def ensure_usage(reseller) -> int:
    """Load the charges, keys, rollups, used figures and burn rates once; return the charges."""
    from django.db import connection, transaction
    from django.utils import timezone

    from credits.models import UsageDaily
    from credits.services import burn_rates_refresh, usage_partitions_ensure

    with connection.cursor() as cursor:
        # Its own charges, not any: the console and ingest sections record charges for the same
        # reseller, and this section's rollups and `used` add only what it generates (one
        # transaction, so its first charge means all of them).
        cursor.execute("SELECT 1 FROM credits_usagechargekey WHERE reseller_id = %s AND external_id = 'bench-usage-1'",
                       [reseller.pk])
        loaded = cursor.fetchone() is not None
    if loaded:
        return CHARGES
    started = clock.perf_counter()
    now = timezone.now()
    usage_partitions_ensure(now=now - timedelta(days=DAYS + 31), months_ahead=15)
    customers = reseller.customers.count()
    with transaction.atomic(), connection.cursor() as cursor:
        # The key table is written below in one statement, not by the trigger row by row.
        cursor.execute("SET LOCAL session_replication_role = replica")
        step = 1_000_000
        for first in range(1, CHARGES + 1, step):
            cursor.execute(_GENERATE, {"reseller": reseller.pk, "first": first, "last": min(first + step - 1, CHARGES),
                                       "customers": customers, "now": now, "days": DAYS})
            print(f"  (charges {min(first + step - 1, CHARGES):,} of {CHARGES:,}: "
                  f"{clock.perf_counter() - started:.0f}s)", flush=True)
        cursor.execute(_KEYS, [reseller.pk])
        cursor.execute(_ROLLUPS, [reseller.time_zone, reseller.pk])
        cursor.execute(_USED, [reseller.pk])
    burn_rates_refresh(now=now)
    with connection.cursor() as cursor:
        for table in ("credits_usagecharge", "credits_usagechargekey", "credits_usagedaily", "customers_customerbalance"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"  (loaded {CHARGES:,} charges, {UsageDaily.objects.filter(reseller=reseller).count():,} daily rollups "
          f"in {clock.perf_counter() - started:.0f}s)", flush=True)
    return CHARGES


def _hand(sql: str, params: list):
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return run


def _timed_pair(client, url: str, hand, headers=None) -> tuple[dict, list[float]]:
    figures = measure(client, url, repeat=REPEAT, headers=headers)
    hand_ms = []
    for _ in range(REPEAT):
        t0 = clock.perf_counter()
        hand()
        hand_ms.append((clock.perf_counter() - t0) * 1000)
    return figures, hand_ms


def run() -> None:
    from credits.services import reseller_today
    from customers.models import CustomerBalance

    reseller = ensure_scale_dataset()
    charges = ensure_usage(reseller)
    client = _signed_in_client("bench")
    today = reseller_today(reseller)
    busiest = CustomerBalance.objects.filter(reseller=reseller).order_by("-burn_rate").values_list(
        "customer_id", "customer__uin").first()
    customer_id, uin = busiest
    chart_sql = ("SELECT day, product, sum(amount) FROM credits_usagedaily WHERE customer_id = %s AND day >= %s "
                 "AND day <= %s GROUP BY 1, 2")
    cases = [
        ("Customer page, 30 days", f"/customers/{uin}/", _hand(chart_sql, [customer_id, today - timedelta(days=29), today])),
        ("Customer page, 365 days", f"/customers/{uin}/?days=365",
         _hand(chart_sql, [customer_id, today - timedelta(days=364), today])),
        ("Overview (with its charts)", "/", _hand(
            "SELECT customer_id, burn_rate FROM customers_customerbalance WHERE reseller_id = %s AND burn_rate > 0 "
            "ORDER BY burn_rate DESC, customer_id LIMIT 10", [reseller.pk])),
        ("My Customers, sort by days to zero", "/customers/?sort=days_to_zero", _hand(
            "SELECT c.id FROM customers_customer c JOIN customers_customerbalance b ON b.customer_id = c.id "
            "WHERE b.reseller_id = %s ORDER BY b.days_to_zero, c.id LIMIT 20", [reseller.pk])),
        ("My Customers, runs out within 7 days", "/customers/?runs_out=7", _hand(
            "SELECT customer_id FROM customers_customerbalance WHERE reseller_id = %s AND days_to_zero <= 7 "
            "ORDER BY customer_id LIMIT 20", [reseller.pk])),
    ]
    print(f"  reseller {reseller.uin}: {reseller.customers.count():,} customers, {charges:,} usage charges over "
          f"{DAYS} days; {REPEAT} requests per page; target p95 <= {TARGET_P95_MS:.0f} ms", flush=True)
    missed = []
    for label, url, hand in cases:
        figures, hand_ms = _timed_pair(client, url, hand)
        page_p50, page_p95 = statistics.median(figures["page"]), percentile(figures["page"], 95)
        ok = page_p95 <= TARGET_P95_MS
        line(label, f"page p50 {page_p50:6.1f} ms p95 {page_p95:6.1f} ms {_verdict(ok):>7} | its {figures['queries']} "
                    f"queries p50 {statistics.median(figures['sql']):5.1f} ms | hand-written SQL p50 "
                    f"{statistics.median(hand_ms):5.1f} ms p95 {percentile(hand_ms, 95):5.1f} ms")
        if not ok:
            missed.append(label)
    print(f"  usage pages: {len(cases) - len(missed)} of {len(cases)} meet the target"
          + (f"; not met: {', '.join(missed)}" if missed else ""), flush=True)
