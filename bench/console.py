"""Console pages at scale: one reseller with 100,000 customers and 1,000,000 allocation records.

For each page: p50 / p95 server time over REPEAT requests through Django's test Client (signed in as
the benchmark user), the SQL queries per request (the same at 20 and 100 rows per page), and the
hand-written SQL for the same page (its count and its rows) timed in the same run, with the ratio.
Target: p95 <= 150 ms for every page."""

import statistics
from datetime import datetime, time, timedelta

from bench.common import ensure_scale_dataset, line, percentile, summary_ms, timed

REPEAT = 40
TARGET_P95_MS = 150.0

CUSTOMER_COLUMNS = ("id, uin, reseller_id, name, remark, email, phone, bound_at, credit, used, available, "
                    "usage_band, account_status")
RECORD_COLUMNS = ("r.id, r.created_at, r.customer_id, r.amount, r.credit_after, r.available_after, "
                  "r.pool_remaining_after, r.operator_name, r.source, r.remark, c.id, c.uin, c.name")


# A customer with its balance (customers.CustomerBalance), filtered by reseller on both tables as
# customers.selectors.customer_list does: the balance's indexes are per reseller.
CUSTOMERS = ("(SELECT c.*, b.reseller_id AS balance_reseller_id, b.credit, b.used, b.available, b.usage_band "
             "FROM customers_customer c JOIN customers_customerbalance b ON b.customer_id = c.id) customers")


def _customers_sql(where: str = "", order: str = "bound_at DESC, id DESC", balance: bool = False) -> list[str]:
    """balance: the page sorts or filters on the balance (count through the join); else the count
    reads the customer table alone."""
    condition = "reseller_id = %(reseller)s" + (" AND balance_reseller_id = %(reseller)s" if balance else "")
    condition += f" AND ({where})" if where else ""
    counted = CUSTOMERS if balance else "customers_customer"
    return [
        f"SELECT COUNT(*) FROM {counted} WHERE {condition}",
        f"SELECT {CUSTOMER_COLUMNS} FROM {CUSTOMERS} WHERE {condition} ORDER BY {order} LIMIT 20",
    ]


def _records_sql(where: str = "") -> list[str]:
    condition = "r.reseller_id = %(reseller)s" + (f" AND {where}" if where else "")
    return [
        # The page counts at most 10,001 rows ("10,000+"), as CappedCountPaginator does.
        f"SELECT COUNT(*) FROM (SELECT r.id FROM credits_allocationrecord r WHERE {condition} "
        "ORDER BY r.created_at DESC, r.id DESC LIMIT 10001) capped",
        f"SELECT {RECORD_COLUMNS} FROM credits_allocationrecord r JOIN customers_customer c ON c.id = r.customer_id "
        f"WHERE {condition} ORDER BY r.created_at DESC, r.id DESC LIMIT 20",
    ]


def _month(reseller) -> tuple[datetime, datetime, str]:
    """A calendar month about six months back, in the reseller's time zone (as the filter reads it)."""
    zone = reseller.zone
    start_day = (datetime.now(zone) - timedelta(days=180)).date().replace(day=1)
    end_day = (start_day + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    query = f"date_from={start_day.isoformat()}&date_to={end_day.isoformat()}"
    start = datetime.combine(start_day, time.min, tzinfo=zone)
    return start, datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=zone), query


def run() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    reseller = ensure_scale_dataset()
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="bench"))
    month_start, month_end, month_query = _month(reseller)
    term = "0421"
    like = f"%{term}%"
    cases = [
        ("My Customers, first page", "/customers/", _customers_sql(), {}),
        # icontains is upper(col) LIKE upper(pattern) on PostgreSQL (here about twice as fast as ILIKE).
        (f"My Customers, search {term!r} (name/remark/email)", f"/customers/?q={term}",
         _customers_sql("upper(name) LIKE upper(%(like)s) OR upper(remark) LIKE upper(%(like)s) "
                       "OR upper(email) LIKE upper(%(like)s) OR uin = %(uin)s"),
         {"like": like, "uin": int(term)}),
        ("My Customers, sort by available", "/customers/?sort=available",
         _customers_sql(order="available ASC, id ASC", balance=True), {}),
        ("My Customers, used >= 90 %", "/customers/?band=90", _customers_sql("usage_band >= 90", balance=True), {}),
        ("Allocation Records, first page", "/records/", _records_sql(), {}),
        ("Allocation Records, one month", f"/records/?{month_query}",
         _records_sql("r.created_at >= %(start)s AND r.created_at < %(end)s"), {"start": month_start, "end": month_end}),
    ]
    print(f"  reseller {reseller.uin}: {reseller.customers.count():,} customers, "
          f"{reseller.allocation_records.count():,} allocation records; {REPEAT} requests per page", flush=True)
    over = []
    for label, url, statements, params in cases:
        params = {"reseller": reseller.pk, **params}

        def page(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        def by_hand(statements=statements, params=params):
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql, params)
                    cursor.fetchall()

        for _ in range(3):  # warm the template cache and the database buffers
            page()
            by_hand()
        django_ms = timed(page, REPEAT)
        sql_ms = timed(by_hand, REPEAT)
        queries = []
        for size in (20, 100):
            with CaptureQueriesContext(connection) as captured:
                client.get(url + ("&" if "?" in url else "?") + f"per_page={size}")
            queries.append(len(captured))
        p95 = percentile(django_ms, 95)
        ratio = statistics.median(django_ms) / statistics.median(sql_ms)
        verdict = "ok" if p95 <= TARGET_P95_MS else f"OVER {TARGET_P95_MS:.0f} ms"
        line(label, f"{summary_ms(django_ms)}  {queries[0]} queries ({queries[1]} at 100 rows)  {verdict}")
        line("", f"hand-written SQL {summary_ms(sql_ms)}  page / SQL p50 {ratio:4.1f}x")
        if p95 > TARGET_P95_MS:
            over.append(label)
    if over:
        print(f"  over the p95 target: {', '.join(over)}", flush=True)
