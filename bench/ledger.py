"""Allocations per second through credit_allocate against hand-written SQL, in the same run.

Baselines, each the same transaction (lock the customer's balance and check the rule, lock the pool
and check it, write the record) with 8 concurrent worker processes:
- hand-written SQL on the project's schema (customers_customerbalance, credits_creditpool,
  credits_allocationrecord with their constraints, indexes and triggers); target service >= 0.5x;
- hand-written SQL on a minimal schema (scratch tables in the schema bench_minimal: a pool, a
  customer with only its key and balance, a record), the floor any schema could reach; target
  service >= 0.25x.
Both lock orders (DESIGN §2) are measured on the project's schema. Two cases: spread over the
100,000 benchmark customers, and hot (all workers on one customer). Each worker alternates +1.00
and -1.00 so the pool stays level. The pool row is locked by every allocation of the reseller, so
the rates are bounded by how long it is held: up to and including the COMMIT's WAL flush.
"""

import time
from decimal import Decimal

import psycopg
from django.conf import settings
from django.utils import timezone

from bench.common import drive, ensure_scale_dataset, line
from credits.services import credit_allocate

WORKERS = 8
SECONDS = 6.0
ONE = Decimal("1.00")

_RECORD_INSERT = (
    "INSERT INTO credits_allocationrecord (created_at, reseller_id, customer_id, amount, credit_after, "
    "available_after, pool_remaining_after, operator_name, source, remark) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, 'bench-sql', 'system', '')"
)
_CUSTOMER_MOVE = (
    "UPDATE customers_customerbalance SET credit = credit + %s WHERE customer_id = %s AND reseller_id = %s "
    "AND (%s > 0 OR credit + %s - used >= 0) RETURNING credit, used"
)
_POOL_MOVE = (
    "UPDATE credits_creditpool SET remaining = remaining - %s, updated_at = %s "
    "WHERE reseller_id = %s AND remaining - %s >= 0 RETURNING remaining"
)

MINIMAL_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bench_minimal;
DROP TABLE IF EXISTS bench_minimal.record, bench_minimal.customer, bench_minimal.pool;
CREATE TABLE bench_minimal.pool (
    reseller_id bigint PRIMARY KEY,
    remaining numeric(16, 2) NOT NULL CHECK (remaining >= 0));
CREATE TABLE bench_minimal.customer (
    id bigint PRIMARY KEY,
    credit numeric(16, 2) NOT NULL CHECK (credit >= 0),
    used numeric(16, 2) NOT NULL CHECK (used >= 0));
CREATE TABLE bench_minimal.record (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL,
    customer_id bigint NOT NULL,
    amount numeric(16, 2) NOT NULL,
    credit_after numeric(16, 2) NOT NULL,
    pool_remaining_after numeric(16, 2) NOT NULL);
INSERT INTO bench_minimal.pool SELECT reseller_id, remaining FROM credits_creditpool WHERE reseller_id = %(reseller)s;
INSERT INTO bench_minimal.customer SELECT customer_id, credit, used FROM customers_customerbalance
    WHERE reseller_id = %(reseller)s;
VACUUM ANALYZE bench_minimal.pool, bench_minimal.customer, bench_minimal.record;
"""


def _conninfo() -> dict:
    db = settings.DATABASES["default"]
    return {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None,
            "password": db["PASSWORD"] or None, "dbname": db["NAME"]}


def _sql_allocate(conn, reseller_id: int, customer_id: int, amount: Decimal, *, pool_first: bool) -> None:
    now = timezone.now()
    with conn.transaction():
        if pool_first:
            conn.execute("SELECT 1 FROM credits_creditpool WHERE reseller_id = %s FOR UPDATE", [reseller_id])
        row = conn.execute(_CUSTOMER_MOVE, [amount, customer_id, reseller_id, amount, amount]).fetchone()
        if row is None:
            return
        credit, used = row
        remaining = conn.execute(_POOL_MOVE, [amount, now, reseller_id, amount]).fetchone()[0]
        conn.execute(_RECORD_INSERT, [now, reseller_id, customer_id, amount, credit, credit - used, remaining])


def _sql_customer_first(conn, reseller_id: int, customer_id: int, amount: Decimal) -> None:
    _sql_allocate(conn, reseller_id, customer_id, amount, pool_first=False)


def _sql_pool_first(conn, reseller_id: int, customer_id: int, amount: Decimal) -> None:
    _sql_allocate(conn, reseller_id, customer_id, amount, pool_first=True)


def _sql_minimal(conn, reseller_id: int, customer_id: int, amount: Decimal) -> None:
    now = timezone.now()
    with conn.transaction():
        row = conn.execute(
            "UPDATE bench_minimal.customer SET credit = credit + %s WHERE id = %s "
            "AND (%s > 0 OR credit + %s - used >= 0) RETURNING credit",
            [amount, customer_id, amount, amount]).fetchone()
        if row is None:
            return
        remaining = conn.execute(
            "UPDATE bench_minimal.pool SET remaining = remaining - %s WHERE reseller_id = %s "
            "AND remaining - %s >= 0 RETURNING remaining", [amount, reseller_id, amount]).fetchone()[0]
        conn.execute(
            "INSERT INTO bench_minimal.record (created_at, customer_id, amount, credit_after, pool_remaining_after) "
            "VALUES (%s, %s, %s, %s, %s)", [now, customer_id, amount, row[0], remaining])


def _rate(result: tuple[float, list[float]]) -> float:
    elapsed, latencies = result
    return len(latencies) / elapsed


def _update_counts(cursor) -> dict:
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute(
        "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
        "WHERE relname IN ('customers_customer', 'customers_customerbalance', 'credits_creditpool')"
    )
    return {name: (updated, hot) for name, updated, hot in cursor.fetchall()}


def _queries_per_allocation(reseller, customer_id: int) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # A pair first, uncaptured: the statements a connection sends once (a PREPARE) are not per allocation.
    credit_allocate(reseller=reseller, customer=customer_id, amount=ONE, source="system", operator_name="bench")
    credit_allocate(reseller=reseller, customer=customer_id, amount=-ONE, source="system", operator_name="bench")
    with CaptureQueriesContext(connection) as captured:
        credit_allocate(reseller=reseller, customer=customer_id, amount=ONE, source="system", operator_name="bench")
        credit_allocate(reseller=reseller, customer=customer_id, amount=-ONE, source="system", operator_name="bench")
    return [" ".join(query["sql"].split()[:2]) for query in captured.captured_queries]


def run() -> None:
    from django.db import connection

    from customers.models import Customer

    reseller = ensure_scale_dataset()
    spread = list(Customer.objects.filter(reseller=reseller, balance__available__gte=100).values_list("id", flat=True))
    hot = [spread[0]]
    with connection.cursor() as cursor:
        for statement in MINIMAL_SCHEMA.split(";"):
            if statement.strip():
                cursor.execute(statement.replace("%(reseller)s", str(int(reseller.pk))))
    print(f"  {WORKERS} workers, {SECONDS:.0f} s per measurement, {len(spread):,} customers with available >= 100 "
          f"(of {Customer.objects.filter(reseller=reseller).count():,})", flush=True)

    queries = _queries_per_allocation(reseller, hot[0])
    line("queries per allocation (service, no idempotency key)", f"{len(queries) / 2:.0f}: {', '.join(queries[:len(queries) // 2])}")

    def service_worker():
        def step(customer_id, amount):
            credit_allocate(reseller=reseller, customer=customer_id, amount=amount, source="system",
                            operator_name="bench-service")
        return step

    def sql_worker(operation):
        def make():
            conn = psycopg.connect(**_conninfo())

            def step(customer_id, amount):
                operation(conn, reseller.pk, customer_id, amount)
            return step
        return make

    with connection.cursor() as cursor:
        before = _update_counts(cursor)
    for label, ids in (("spread over 100,000 customers", spread), ("hot: one customer", hot)):
        minimal = _rate(drive(sql_worker(_sql_minimal), ids, workers=WORKERS, seconds=SECONDS))
        pool_first = _rate(drive(sql_worker(_sql_pool_first), ids, workers=WORKERS, seconds=SECONDS))
        customer_first = _rate(drive(sql_worker(_sql_customer_first), ids, workers=WORKERS, seconds=SECONDS))
        service = _rate(drive(service_worker, ids, workers=WORKERS, seconds=SECONDS))
        line(f"{label}: SQL, minimal schema", f"{minimal:8.0f} allocations/s")
        line(f"{label}: SQL, project schema, pool then customer", f"{pool_first:8.0f} allocations/s")
        line(f"{label}: SQL, project schema, customer then pool", f"{customer_first:8.0f} allocations/s")
        line(f"{label}: credit_allocate service", f"{service:8.0f} allocations/s")
        line(f"{label}: ratio service / SQL (project schema)", f"{service / customer_first:8.2f}  (target >= 0.5)")
        line(f"{label}: ratio service / SQL (minimal schema)", f"{service / minimal:8.2f}  (target >= 0.25)")
    time.sleep(1.0)  # backends report their table statistics at most once a second
    with connection.cursor() as cursor:
        after = _update_counts(cursor)
    for table in ("customers_customerbalance", "customers_customer", "credits_creditpool"):
        updated = after.get(table, (0, 0))[0] - before.get(table, (0, 0))[0]
        hot_updates = after.get(table, (0, 0))[1] - before.get(table, (0, 0))[1]
        line(f"row updates during the run: {table}", f"{updated:8,} ({hot_updates:,} HOT)")

    from credits.selectors import ledger_mismatches

    t0 = time.perf_counter()
    problems = ledger_mismatches()
    line("check_ledger after the run", f"{len(problems)} mismatches ({time.perf_counter() - t0:.1f} s)")
