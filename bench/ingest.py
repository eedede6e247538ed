"""Usage ingestion at scale (issue 10), against the hand-written set-based SQL on the same tables in
the same run: one `INSERT … SELECT FROM unnest(…) … RETURNING` and one `UPDATE … FROM` the
per-customer sums per batch, on one connection. The charges table is partitioned by month (credits
migration 0007), where ON CONFLICT has no UNIQUE (reseller, external id) to act on: the insert skips
keys already in credits_usagechargekey with NOT EXISTS instead (its trigger writes the keys).

- ReportCustomerUsage through gunicorn: signed requests of 1,000 charges over random customers of
  the 100,000-customer benchmark reseller, one client, alternating in rounds with the SQL baseline
  on the same batch size, after every gunicorn worker and the SQL's connection have served untimed
  batches. Target: API >= 0.5x the SQL rate.
- `python manage.py import_usage` of a CSV of BENCH_INGEST_ROWS rows (default 1,000,000) in a
  subprocess: charges/s against the SQL baseline on the import's batch size, and the command's
  peak memory (VmHWM, read from /proc while it runs). Targets: >= 0.5x, <= 200 MB. The import adds
  its 1,000,000 charges to the tables it writes as it runs, so the SQL runs half its rows
  (BENCH_INGEST_BASELINE_ROWS, default 200,000) just before the import and half just after, and
  the ratio is against both together.

BENCH_INGEST_ROWS, BENCH_INGEST_API_BATCHES and BENCH_INGEST_BASELINE_ROWS make it smaller for
iteration; the defaults are the issue's.
"""

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
from django.db import connection, connections

from bench.api import GUNICORN_WORKERS, LeanClient, Server, _client
from bench.common import ensure_scale_dataset, line
from bench.ledger import _conninfo

CSV_ROWS = int(os.environ.get("BENCH_INGEST_ROWS", "1000000"))
API_BATCH = 1000
API_BATCHES = int(os.environ.get("BENCH_INGEST_API_BATCHES", "40"))
ROUNDS = 4
IMPORT_BATCH = 2000  # import_usage's default --batch-size
# The SQL baseline for the import runs on this many rows (its rate, not its total, is compared).
BASELINE_ROWS = int(os.environ.get("BENCH_INGEST_BASELINE_ROWS", str(min(CSV_ROWS, 200_000))))
PRODUCTS = ("CVM", "COS", "CDN", "TencentDB")

_SQL_INSERT = """
INSERT INTO credits_usagecharge
    (reseller_id, customer_id, amount, incurred_at, external_id, product, description, source, created_at)
SELECT %s, r.customer_id, r.amount, r.incurred_at, r.external_id, r.product, '', 'import', now()
FROM unnest(%s::bigint[], %s::numeric[], %s::timestamptz[], %s::text[], %s::text[])
     AS r(customer_id, amount, incurred_at, external_id, product)
WHERE NOT EXISTS (SELECT 1 FROM credits_usagechargekey k WHERE k.reseller_id = %s AND k.external_id = r.external_id)
RETURNING customer_id, amount
"""
_SQL_UPDATE = """
UPDATE customers_customerbalance b SET used = b.used + s.amount
FROM (SELECT id, sum(amount) AS amount FROM unnest(%s::bigint[], %s::numeric[]) AS t(id, amount) GROUP BY id) s
WHERE b.customer_id = s.id
"""


def _charges(rng: random.Random, customers: list[tuple[int, int]], count: int, tag: str, start: int):
    """`count` charges over random customers: (customer id, uin, amount, incurred at, external id, product)."""
    incurred = "2026-11-25T10:00:00+00:00"
    for n in range(start, start + count):
        customer_id, uin = customers[rng.randrange(len(customers))]
        yield customer_id, uin, Decimal(rng.randint(1, 500)) / 100, incurred, f"{tag}-{n}", PRODUCTS[n % 4]


def _usage_body(batch: list[tuple]) -> dict:
    return {"Charges": [{"ClientUin": uin, "Amount": str(amount), "IncurredAt": incurred, "ExternalId": external_id,
                         "Product": product} for _, uin, amount, incurred, external_id, product in batch]}


def _warm(server, key, secret_key: str, rng: random.Random, customers: list, tag: str) -> int:
    """Before anything is timed, every gunicorn worker serves two batches (its database connection,
    prepared statements and first-run code), as the api section warms its workers: a worker's first
    ReportCustomerUsage took about 100 ms more than the next. Concurrent requests, one per worker,
    so that each worker takes one (a sync worker serves one request at a time). Returns the next
    external id's number."""
    sequence = 0
    for _ in range(2):
        bodies = []
        for _ in range(GUNICORN_WORKERS):
            bodies.append(_usage_body(list(_charges(rng, customers, API_BATCH, f"{tag}-warm", sequence))))
            sequence += API_BATCH
        failures = []

        def send(body):
            try:
                LeanClient(server.endpoint, key.secret_id, secret_key).call("ReportCustomerUsage", body)
            except Exception as error:  # noqa: BLE001 (raised below, in the benchmark's thread)
                failures.append(error)

        threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
    return sequence


def _sql_batch(conn, reseller_id: int, batch: list[tuple]) -> int:
    with conn.transaction():
        inserted = conn.execute(_SQL_INSERT, [
            reseller_id, [c[0] for c in batch], [c[2] for c in batch], [c[3] for c in batch],
            [c[4] for c in batch], [c[5] for c in batch], reseller_id,
        ]).fetchall()
        conn.execute(_SQL_UPDATE, [[row[0] for row in inserted], [row[1] for row in inserted]])
    return len(inserted)


def _sql_baseline(reseller_id: int, rng: random.Random, customers: list, rows: int, tag: str) -> tuple[int, float]:
    """The SQL on `rows` charges in batches of IMPORT_BATCH, on a connection of its own: (charges, seconds)."""
    sql = psycopg.connect(**_conninfo())
    try:
        _sql_batch(sql, reseller_id, list(_charges(rng, customers, IMPORT_BATCH, f"{tag}-warm", 0)))  # untimed
        seconds, count = 0.0, 0
        for start in range(0, rows, IMPORT_BATCH):
            batch = list(_charges(rng, customers, min(IMPORT_BATCH, rows - start), tag, start))
            t0 = time.perf_counter()
            count += _sql_batch(sql, reseller_id, batch)
            seconds += time.perf_counter() - t0
        return count, seconds
    finally:
        sql.close()


def _vacuum() -> None:
    # The key table too: both the service and the SQL baseline look each external id up in it, and
    # without statistics the baseline's NOT EXISTS hashes every key of the reseller per batch.
    with connection.cursor() as cursor:
        for table in ("credits_usagecharge", "credits_usagechargekey", "credits_usagedaily", "customers_customer",
                      "customers_customerbalance"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


class PeakMemory:
    """The child's VmHWM (peak resident set), read from /proc every 50 ms while it runs: the high
    water mark only grows, so the last reading before exit is its peak."""

    def __init__(self, pid: int):
        self.pid, self.peak_kb = pid, 0
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        path = f"/proc/{self.pid}/status"
        while True:
            try:
                with open(path) as status:
                    for text in status:
                        if text.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(text.split()[1]))
                            break
                    else:
                        return  # a zombie has no memory left to report
            except OSError:
                return
            time.sleep(0.05)

    @property
    def peak_mb(self) -> float:
        self.thread.join(5)
        return self.peak_kb / 1024


def run() -> None:
    from api.models import ApiKey
    from api.services import api_key_create
    from credits.models import UsageCharge
    from customers.models import Customer, Member

    reseller = ensure_scale_dataset()
    _vacuum()
    member = Member.objects.select_related("user").get(reseller=reseller, user__username="bench")
    customers = list(Customer.objects.filter(reseller=reseller).order_by("id").values_list("id", "uin"))
    tag = f"bench-{uuid.uuid4().hex[:8]}"
    rng = random.Random(10)
    print(f"  {len(customers):,} customers; {UsageCharge.objects.count():,} charges recorded before this run; "
          f"API: {API_BATCHES} batches of {API_BATCH:,} in {ROUNDS} rounds against the SQL; import_usage: "
          f"{CSV_ROWS:,} rows against the SQL on {BASELINE_ROWS:,}", flush=True)

    # (a) ReportCustomerUsage through gunicorn vs the set-based SQL, alternating in rounds.
    key, secret_key = api_key_create(user=member.user, description="benchmark (deleted after the run)")
    connections.close_all()
    sql = psycopg.connect(**_conninfo())
    sequence = 0
    api_s = sql_s = 0.0
    api_n = sql_n = 0
    try:
        with Server() as server:
            server.wait_ready(_client(server.endpoint, key.secret_id, secret_key))
            client = LeanClient(server.endpoint, key.secret_id, secret_key)
            sequence = _warm(server, key, secret_key, rng, customers, tag)
            # And the SQL's connection, untimed too.
            _sql_batch(sql, reseller.pk, list(_charges(rng, customers, API_BATCH, f"{tag}-warm", sequence)))
            sequence += API_BATCH
            per_round = max(API_BATCHES // ROUNDS, 1)
            for _ in range(ROUNDS):
                for _ in range(per_round):
                    batch = list(_charges(rng, customers, API_BATCH, f"{tag}-sql", sequence))
                    sequence += API_BATCH
                    t0 = time.perf_counter()
                    sql_n += _sql_batch(sql, reseller.pk, batch)
                    sql_s += time.perf_counter() - t0
                for _ in range(per_round):
                    batch = list(_charges(rng, customers, API_BATCH, f"{tag}-api", sequence))
                    sequence += API_BATCH
                    body = _usage_body(batch)
                    t0 = time.perf_counter()
                    answer = client.call("ReportCustomerUsage", body)
                    api_s += time.perf_counter() - t0
                    if answer["Accepted"] != API_BATCH:
                        raise RuntimeError(f"ReportCustomerUsage accepted {answer['Accepted']} of {API_BATCH}")
                    api_n += answer["Accepted"]
    finally:
        ApiKey.objects.filter(pk=key.pk).delete()
    api_rate, sql_rate = api_n / api_s, sql_n / sql_s
    line(f"set-based SQL, batches of {API_BATCH:,} (1 connection)", f"{sql_rate:9,.0f} charges/s")
    line(f"ReportCustomerUsage via gunicorn, batches of {API_BATCH:,} (1 client)", f"{api_rate:9,.0f} charges/s")
    ratio = api_rate / sql_rate
    line("  API / SQL (target >= 0.50)", f"{ratio:.2f} {'met' if ratio >= 0.5 else 'NOT MET'}")

    # (b) import_usage of a CSV file in a subprocess vs the SQL on the import's batch size, half of
    # the SQL's rows before the import and half after: the import adds CSV_ROWS charges to the tables
    # as it runs, so the SQL is measured on the tables as they are at its start and at its end.
    sql.close()
    before_n, before_s = _sql_baseline(reseller.pk, rng, customers, BASELINE_ROWS // 2, f"{tag}-sqlb")
    line(f"set-based SQL, batches of {IMPORT_BATCH:,}, before the import ({before_n:,} charges)",
         f"{before_n / before_s:9,.0f} charges/s")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "usage.csv"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("customer_uin,amount,incurred_at,external_id,product,description\n")
            for _, uin, amount, incurred, external_id, product in _charges(rng, customers, CSV_ROWS, f"{tag}-csv", 0):
                handle.write(f"{uin},{amount},{incurred},{external_id},{product},Instance hours\n")
        size_mb = path.stat().st_size / 1024 / 1024
        root = Path(__file__).resolve().parent.parent
        t0 = time.perf_counter()
        process = subprocess.Popen([sys.executable, "manage.py", "import_usage", str(path)], cwd=root,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        memory = PeakMemory(process.pid)
        out, err = process.communicate()
        elapsed = time.perf_counter() - t0
        if process.returncode != 0:
            raise RuntimeError(f"import_usage failed ({process.returncode}): {err.strip()[-2000:]}")
        if f"Imported {CSV_ROWS} usage charge(s)" not in out:
            raise RuntimeError(f"import_usage did not import every row: {out.strip()}")
    rate = CSV_ROWS / elapsed
    peak = memory.peak_mb
    line(f"import_usage {CSV_ROWS:,} rows ({size_mb:,.0f} MB CSV), whole command", f"{rate:9,.0f} charges/s  {elapsed:7.1f} s")
    after_n, after_s = _sql_baseline(reseller.pk, rng, customers, BASELINE_ROWS - BASELINE_ROWS // 2, f"{tag}-sqla")
    line(f"set-based SQL, batches of {IMPORT_BATCH:,}, after the import ({after_n:,} charges)",
         f"{after_n / after_s:9,.0f} charges/s")
    baseline = (before_n + after_n) / (before_s + after_s)
    line("set-based SQL, before and after together", f"{baseline:9,.0f} charges/s")
    ratio = rate / baseline
    line("  import_usage / SQL (target >= 0.50)", f"{ratio:.2f} {'met' if ratio >= 0.5 else 'NOT MET'}")
    line("  import_usage peak memory VmHWM (target <= 200 MB)", f"{peak:.0f} MB {'met' if peak <= 200 else 'NOT MET'}")
