"""Allocations per second through credit_allocate vs the same transaction as hand-written SQL.

Two cases, 8 concurrent workers each: spread over the 100,000 benchmark customers, and hot (all
workers on one customer). Each worker alternates +1.00 and -1.00 so the pool stays level. Every
operation locks the reseller's pool row, so the rates are bounded by how long that lock is held.
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


def _conninfo() -> dict:
    db = settings.DATABASES["default"]
    return {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None,
            "password": db["PASSWORD"] or None, "dbname": db["NAME"]}


def _sql_operation(conn, reseller_id: int, customer_id: int, amount: Decimal) -> None:
    now = timezone.now()
    with conn.transaction():
        if amount > 0:
            remaining = conn.execute(
                "UPDATE credits_creditpool SET remaining = remaining - %s, updated_at = %s "
                "WHERE reseller_id = %s AND remaining - %s >= 0 RETURNING remaining",
                [amount, now, reseller_id, amount]).fetchone()[0]
            credit, used = conn.execute(
                "UPDATE customers_customer SET credit = credit + %s WHERE id = %s AND reseller_id = %s "
                "RETURNING credit, used", [amount, customer_id, reseller_id]).fetchone()
        else:
            conn.execute("SELECT remaining FROM credits_creditpool WHERE reseller_id = %s FOR UPDATE", [reseller_id])
            row = conn.execute(
                "UPDATE customers_customer SET credit = credit + %s WHERE id = %s AND reseller_id = %s "
                "AND credit + %s - used >= 0 RETURNING credit, used",
                [amount, customer_id, reseller_id, amount]).fetchone()
            if row is None:
                return
            credit, used = row
            remaining = conn.execute(
                "UPDATE credits_creditpool SET remaining = remaining - %s, updated_at = %s "
                "WHERE reseller_id = %s RETURNING remaining", [amount, now, reseller_id]).fetchone()[0]
        conn.execute(
            "INSERT INTO credits_allocationrecord (created_at, reseller_id, customer_id, amount, credit_after, "
            "available_after, pool_remaining_after, operator_name, source, remark) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 'bench-sql', 'system', '')",
            [now, reseller_id, customer_id, amount, credit, credit - used, remaining])


def _rate(result: tuple[float, list[float]]) -> float:
    elapsed, latencies = result
    return len(latencies) / elapsed


def run() -> None:
    reseller = ensure_scale_dataset()
    from customers.models import Customer

    spread = list(Customer.objects.filter(reseller=reseller, available__gte=100).values_list("id", flat=True))
    hot = [spread[0]]
    print(f"  {WORKERS} workers, {SECONDS:.0f} s per measurement, {len(spread):,} customers with available >= 100 "
          f"(of {Customer.objects.filter(reseller=reseller).count():,})", flush=True)

    def service_worker():
        def step(customer_id, amount):
            credit_allocate(reseller=reseller, customer=customer_id, amount=amount, source="system",
                            operator_name="bench-service")
        return step

    def sql_worker():
        conn = psycopg.connect(**_conninfo())

        def step(customer_id, amount):
            _sql_operation(conn, reseller.pk, customer_id, amount)
        return step

    for label, ids in (("spread over 100,000 customers", spread), ("hot: one customer", hot)):
        sql_rate = _rate(drive(sql_worker, ids, workers=WORKERS, seconds=SECONDS))
        service_rate = _rate(drive(service_worker, ids, workers=WORKERS, seconds=SECONDS))
        line(f"{label}: hand-written SQL", f"{sql_rate:8.0f} allocations/s")
        line(f"{label}: credit_allocate service", f"{service_rate:8.0f} allocations/s")
        line(f"{label}: ratio service / SQL", f"{service_rate / sql_rate:8.2f}  (target >= 0.25)")

    from credits.selectors import ledger_mismatches

    t0 = time.perf_counter()
    problems = ledger_mismatches()
    line("check_ledger after the run", f"{len(problems)} mismatches ({time.perf_counter() - t0:.1f} s)")
