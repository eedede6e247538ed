"""Console pages and the operator's admin lists at scale: one reseller with 100,000 customers and
1,000,000 allocation records; 1,000,000 rows each of usage charges, alerts, deliveries (with as many
Message Center messages for the benchmark member) and repayments.

Every console page is requested REPEAT times through Django's test Client (signed in as the
benchmark user, so the session, user and membership lookups and every middleware count). Its SQL is
every query that page sends, captured from one request and replayed by hand through a plain cursor;
the two are timed alternately, so that both see the same load. The ratio page / SQL is how much time
the page spends outside the database. Targets: p95 <= 40 ms per page and page / SQL p50 <= 4x.

The Django admin's changelists for the big tables are requested as a platform operator (a
superuser): unfiltered, filtered and searched. Target: p95 <= 300 ms each."""

import os
import statistics
import time as clock
from datetime import datetime, timedelta

from bench.common import checkpoint, ensure_scale_dataset, line, percentile

REPEAT = int(os.environ.get("BENCH_REPEAT", "100"))
ADMIN_REPEAT = 15
TARGET_P95_MS = 40.0
TARGET_RATIO = 4.0
ADMIN_TARGET_P95_MS = 300.0
ADMIN_ROWS = 1_000_000
OPERATOR = "bench-operator"


def _month(reseller) -> str:
    """A calendar month about six months back, in the reseller's time zone (as the filter reads it)."""
    zone = reseller.zone
    start_day = (datetime.now(zone) - timedelta(days=180)).date().replace(day=1)
    end_day = (start_day + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return f"date_from={start_day.isoformat()}&date_to={end_day.isoformat()}"


def run() -> None:
    reseller = ensure_scale_dataset()
    ensure_admin_rows(reseller)
    pages(reseller)
    admin_changelists(reseller)


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def _signed_in_client(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _capture(client, url: str, headers: dict) -> list[tuple[str, object]]:
    """Every statement one request of `url` sends, with its parameters, in order."""
    from django.db import connection

    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    for sql, _ in statements:
        # A page that wrote (a session save, an audit row) would change what a replay measures.
        assert sql.lstrip().upper().startswith(("SELECT", "WITH", "EXPLAIN")), f"{url} sends a write: {sql[:80]}"
    return statements


def measure(client, url: str, *, repeat: int, headers: dict | None = None) -> dict:
    """p50 / p95 of the page, p50 of its own SQL replayed, alternating the two."""
    from django.db import connection

    headers = headers or {}
    for _ in range(3):  # warm the template cache, the database buffers and the cached counts
        assert client.get(url, headers=headers).status_code == 200
    statements = _capture(client, url, headers)

    def replay():
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()

    page_ms, sql_ms = [], []
    for _ in range(repeat):
        t0 = clock.perf_counter()
        response = client.get(url, headers=headers)
        page_ms.append((clock.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        t0 = clock.perf_counter()
        replay()
        sql_ms.append((clock.perf_counter() - t0) * 1000)
    return {"page": page_ms, "sql": sql_ms, "queries": len(statements)}


def pages(reseller) -> None:
    from credits.models import AllocationRecord

    client = _signed_in_client("bench")
    customer = reseller.customers.order_by("id")[500]
    busiest = (AllocationRecord.objects.filter(reseller=reseller).values("customer__uin")
               .order_by("customer_id")[:1].get()["customer__uin"])
    htmx = {"HX-Request": "true", "HX-Target": "customer-table"}
    cases = [
        ("Overview", "/", {}),
        ("My Customers, first page", "/customers/", {}),
        ("My Customers, 100 rows", "/customers/?per_page=100", {}),
        ("My Customers, page 50", "/customers/?page=50", {}),
        ("My Customers, search '0421' (UIN/name/remark/email)", "/customers/?q=0421", {}),
        ("My Customers, search a UIN", f"/customers/?q={customer.uin}", {}),
        ("My Customers, sort by available", "/customers/?sort=available", {}),
        ("My Customers, sort by used, descending", "/customers/?sort=-used", {}),
        ("My Customers, used >= 90 %", "/customers/?band=90", {}),
        ("My Customers, used >= 75 %, frozen", "/customers/?band=75&status=frozen", {}),
        ("My Customers, table fragment (htmx search)", "/customers/?q=Games", htmx),
        ("My Customers, one row (htmx refresh)", f"/customers/{customer.uin}/row/", {"HX-Request": "true"}),
        ("Customer credit pool", "/pool/figures/", {}),
        ("Allocation Records, first page", "/records/", {}),
        ("Allocation Records, one month", f"/records/?{_month(reseller)}", {}),
        ("Allocation Records, repossessions", "/records/?type=repossess", {}),
        ("Allocation Records of a customer", f"/customers/{busiest}/records/", {}),
        ("Allocate Credit modal", f"/customers/{customer.uin}/allocate/", {"HX-Request": "true"}),
        ("Confirm Repayment modal", f"/customers/{customer.uin}/repayment/", {"HX-Request": "true"}),
        ("Alert history of a customer", f"/customers/{customer.uin}/alerts/", {}),
        ("Message Center", "/messages/", {}),
        ("Message Center, unread", "/messages/?unread=1", {}),
        ("Message Center, page 20", "/messages/?page=20", {}),
        ("Settings", "/settings/", {}),
        ("API Keys", "/api-keys/", {}),
        ("API reference", "/api-keys/docs/", {}),
    ]
    print(f"  reseller {reseller.uin}: {reseller.customers.count():,} customers, "
          f"{reseller.allocation_records.count():,} allocation records; {REPEAT} requests per page; "
          f"targets: p95 <= {TARGET_P95_MS:.0f} ms, page / SQL p50 <= {TARGET_RATIO:.0f}x", flush=True)
    missed = []
    for label, url, headers in cases:
        figures = measure(client, url, repeat=REPEAT, headers=headers)
        page_p50, page_p95 = statistics.median(figures["page"]), percentile(figures["page"], 95)
        sql_p50 = statistics.median(figures["sql"])
        ratio = page_p50 / sql_p50
        fast, lean = page_p95 <= TARGET_P95_MS, ratio <= TARGET_RATIO
        line(label, f"page p50 {page_p50:6.1f} ms p95 {page_p95:6.1f} ms {_verdict(fast):>7} | "
                    f"its {figures['queries']} queries p50 {sql_p50:5.1f} ms | page / SQL {ratio:4.1f}x {_verdict(lean)}")
        if not (fast and lean):
            missed.append(label)
    print(f"  console pages: {len(cases) - len(missed)} of {len(cases)} meet both targets"
          + (f"; not met: {', '.join(missed)}" if missed else ""), flush=True)


def _past_week() -> str:
    """The admin's "Past 7 days" link of a date filter (DateFieldListFilter), as it writes it."""
    from urllib.parse import urlencode

    from django.utils import timezone

    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return urlencode({"created_at__gte": str(today - timedelta(days=7)), "created_at__lt": str(today + timedelta(days=1))})


def admin_changelists(reseller) -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if not user_model.objects.filter(username=OPERATOR).exists():
        user_model.objects.create_superuser(OPERATOR, "operator@bench.example", f"{OPERATOR}-password")
    client = _signed_in_client(OPERATOR)
    uin = reseller.customers.order_by("id").values_list("uin", flat=True)[500]
    cases = [
        ("allocation records", "/admin/credits/allocationrecord/"),
        ("allocation records, source = system", "/admin/credits/allocationrecord/?source__exact=system"),
        ("allocation records, past 7 days", f"/admin/credits/allocationrecord/?{_past_week()}"),
        ("allocation records, search a customer UIN", f"/admin/credits/allocationrecord/?q={uin}"),
        ("allocation records, page 100", "/admin/credits/allocationrecord/?p=100"),
        ("usage charges", "/admin/credits/usagecharge/"),
        ("usage charges, source = CSV import", "/admin/credits/usagecharge/?source__exact=import"),
        ("usage charges, search a customer UIN", f"/admin/credits/usagecharge/?q={uin}"),
        ("repayments", "/admin/credits/repayment/"),
        ("repayments, search a customer UIN", f"/admin/credits/repayment/?q={uin}"),
        ("alerts", "/admin/notifications/alert/"),
        ("alerts, threshold 90 %", "/admin/notifications/alert/?threshold=90"),
        ("alerts, search a customer UIN", f"/admin/notifications/alert/?q={uin}"),
        ("alert deliveries", "/admin/notifications/delivery/"),
        ("alert deliveries, status = sent, Message Center",
         "/admin/notifications/delivery/?status__exact=sent&channel__exact=inbox"),
        ("alert deliveries, search a customer UIN", f"/admin/notifications/delivery/?q={uin}"),
        ("messages", "/admin/notifications/message/"),
    ]
    print(f"  Django admin as a platform operator, {ADMIN_REPEAT} requests per list; "
          f"target p95 <= {ADMIN_TARGET_P95_MS:.0f} ms", flush=True)
    missed = []
    for label, url in cases:
        figures = measure(client, url, repeat=ADMIN_REPEAT)
        page_p50, page_p95 = statistics.median(figures["page"]), percentile(figures["page"], 95)
        ok = page_p95 <= ADMIN_TARGET_P95_MS
        line(f"admin: {label}", f"p50 {page_p50:6.1f} ms p95 {page_p95:6.1f} ms {_verdict(ok):>7} | "
                                f"{figures['queries']} queries, p50 {statistics.median(figures['sql']):5.1f} ms")
        if not ok:
            missed.append(label)
    print(f"  admin changelists: {len(cases) - len(missed)} of {len(cases)} meet the target"
          + (f"; not met: {', '.join(missed)}" if missed else ""), flush=True)


def ensure_admin_rows(reseller) -> None:
    """ADMIN_ROWS usage charges, repayments, alerts and deliveries of the benchmark reseller, each
    delivery with its Message Center message for the benchmark member (all but the newest 30 read).
    Written once per database with INSERT ... SELECT FROM generate_series. The alerts are of past
    days and re-armed, so they neither count as open nor stop today's alerts (the alerts section's
    sweep runs on its own reseller). The rows are for reading: the charges are not added to the
    customers' used, nor the repayments taken off it."""
    from django.db import connection, transaction
    from django.utils import timezone

    from credits.services import usage_partitions_ensure
    from customers.models import Member

    member = Member.objects.get(reseller=reseller, user__username="bench")
    # The charges go back ADMIN_ROWS * 2 seconds (23 days at 1,000,000): last month needs its partition.
    usage_partitions_ensure(now=timezone.now() - timedelta(days=40))
    customers = "(SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM customers_customer WHERE reseller_id = %(r)s) c"
    fills = [
        ("credits_usagecharge", "reseller_id = %(r)s", f"""
            INSERT INTO credits_usagecharge (reseller_id, customer_id, amount, incurred_at, external_id, product,
                                             description, source, created_at)
            SELECT %(r)s, c.ids[1 + g %% c.n], 0.01 * (1 + g %% 500), now() - g * interval '2 seconds',
                   'bench-admin-' || g, 'cvm', '', (ARRAY['api', 'import'])[1 + g %% 2], now() - g * interval '2 seconds'
            FROM generate_series(1, %(rows)s) g, {customers}"""),
        ("credits_repayment", "reseller_id = %(r)s", f"""
            INSERT INTO credits_repayment (reseller_id, customer_id, amount, used_after, available_after, remark,
                                           confirmed_by_name, idempotency_key, created_at)
            SELECT %(r)s, c.ids[1 + g %% c.n], 0.01 * (1 + g %% 500), 0.00, 0.00, '', 'bench',
                   'bench-admin-' || g, now() - g * interval '30 seconds'
            FROM generate_series(1, %(rows)s) g, {customers}"""),
        # Ten alerts per customer: three thresholds on each of the days before yesterday, re-armed.
        ("notifications_alert", "reseller_id = %(r)s", f"""
            INSERT INTO notifications_alert (reseller_id, customer_id, kind, threshold, day, covered, reminder,
                                             credit, used, available, created_at, rearmed_at)
            SELECT %(r)s, c.ids[1 + (g %% c.n)], 'threshold', (ARRAY[75, 90, 100])[1 + (g / c.n) %% 3],
                   current_date - 2 - (g / c.n) / 3, false, false, 100.00, 90.00, 10.00,
                   (current_date - 2 - (g / c.n) / 3)::timestamptz, (current_date - 1 - (g / c.n) / 3)::timestamptz
            FROM generate_series(0, %(rows)s - 1) g, {customers}"""),
        ("notifications_delivery", "alert_id IN (SELECT id FROM notifications_alert WHERE reseller_id = %(r)s)", """
            INSERT INTO notifications_delivery (alert_id, recipient_kind, member_id, recipient_key, channel, address,
                                                status, attempts, last_error, created_at, next_attempt_at, sent_at,
                                                provider_ref)
            SELECT a.id, 'member', %(m)s, 'member:' || %(m)s, 'inbox', '', 'sent', 1, '', a.created_at, a.created_at,
                   a.created_at, ''
            FROM notifications_alert a WHERE a.reseller_id = %(r)s"""),
        ("notifications_message", "member_id = %(m)s", """
            INSERT INTO notifications_message (reseller_id, member_id, customer_id, for_customer, alert_id, delivery_id,
                                               title, body, created_at, read_at)
            SELECT %(r)s, %(m)s, a.customer_id, false, a.id, d.id, 'Customer ' || a.customer_id || ' has used '
                   || a.threshold || '%% of its credit', 'Benchmark message.', a.created_at,
                   CASE WHEN row_number() OVER (ORDER BY a.created_at DESC, a.id DESC) > 30 THEN a.created_at END
            FROM notifications_delivery d JOIN notifications_alert a ON a.id = d.alert_id WHERE a.reseller_id = %(r)s"""),
    ]
    params = {"r": reseller.pk, "m": member.pk, "rows": ADMIN_ROWS}
    for table, mine, fill in fills:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {mine}", params)
            (have,) = cursor.fetchone()
        if have:
            continue
        t0 = clock.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(fill, params)
            written = cursor.rowcount
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        print(f"  (wrote {written:,} rows into {table} in {clock.perf_counter() - t0:.1f}s)", flush=True)
    with connection.cursor() as cursor:
        for table in ("credits_usagecharge", "credits_repayment", "notifications_alert", "notifications_delivery",
                      "notifications_message"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    checkpoint()  # the rows just written (5,000,000 on a new database) are not flushed while pages are timed


if __name__ == "__main__":  # python -m bench.console pages|admin: one half, for working on it
    import sys

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnercenter.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    from bench.common import prepare_database

    prepare_database()
    scale = ensure_scale_dataset()
    ensure_admin_rows(scale)
    for part in sys.argv[1:] or ["pages", "admin"]:
        {"pages": pages, "admin": admin_changelists}[part](scale)
