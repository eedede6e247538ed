"""Shared benchmark helpers: database set-up and figure printing."""

import multiprocessing
import os
import random
import statistics
import threading
import time
from decimal import Decimal


def prepare_database() -> None:
    """Benchmarks run on PostgreSQL: create the database if needed, migrate, then set up Django."""
    url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/partnercenter_bench")
    # Allocations enqueue evaluations on commit, and the alerts section runs a real worker: both
    # go through Redis, never through the development file broker in var/.
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    if not url.startswith("postgres"):
        raise SystemExit("make bench needs PostgreSQL: set DATABASE_URL=postgres://...")
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    admin = psycopg.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                            password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def summary_ms(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):7.2f} ms  p95 {percentile(samples, 95):7.2f} ms"


def line(label: str, text: str) -> None:
    print(f"  {label:<58} {text}", flush=True)


SCALE_UIN = 900000000001


def ensure_scale_dataset(customers: int = 100_000, records: int = 1_000_000):
    """The shared benchmark reseller (UIN 900000000001, login bench / bench-password): 100,000
    customers and 1,000,000 allocation records, loaded once per database with seed_scale."""
    from django.core.management import call_command

    from customers.models import Reseller

    reseller = Reseller.objects.filter(uin=SCALE_UIN).first()
    if reseller is None:
        t0 = time.perf_counter()
        call_command("seed_scale", customers=customers, records=records, uin=SCALE_UIN, username="bench")
        print(f"  (loaded benchmark data in {time.perf_counter() - t0:.1f}s)", flush=True)
        reseller = Reseller.objects.get(uin=SCALE_UIN)
    _vacuum_analyze()
    return reseller


def _vacuum_analyze() -> None:
    """A bulk load (COPY) and the previous section's updates leave no statistics, no visibility map
    and dead rows; production tables have autovacuum. Every section starts from that footing."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("customers_customer", "customers_customerbalance", "credits_allocationrecord", "credits_creditpool"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def drive(make_step, keys: list, *, workers: int, seconds: float) -> tuple[float, list[float]]:
    """Run `make_step()(key, amount)` in `workers` processes for `seconds`, each alternating +1.00
    and -1.00 on random keys; return (elapsed s, latencies ms of every operation).

    Processes, not threads: with threads the GIL (5 ms switch interval) can keep a worker that holds
    the pool row lock from reaching COMMIT while others run Python, so the figures would measure the
    interpreter rather than the database. Each process opens its own connections after the fork.
    """
    from django.db import connections

    ctx = multiprocessing.get_context("fork")
    connections.close_all()  # a forked child must never share the parent's database socket
    barrier = ctx.Barrier(workers + 1)
    results = ctx.Queue()

    def body(index: int) -> None:
        rng = random.Random(index)
        latencies: list[float] = []
        try:
            step = make_step()
            barrier.wait(timeout=120)
            started = time.perf_counter()
            deadline = started + seconds
            sign = Decimal("1.00")
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                step(keys[rng.randrange(len(keys))], sign)
                latencies.append((time.perf_counter() - t0) * 1000)
                sign = -sign
            results.put((started, time.perf_counter(), latencies, None))
        except BaseException as error:  # reported by the parent; a benchmark must not hide failures
            barrier.abort()
            results.put((0.0, 0.0, [], f"{type(error).__name__}: {error}"))
        finally:
            connections.close_all()

    processes = [ctx.Process(target=body, args=(i,), daemon=True) for i in range(workers)]
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=120)
    except threading.BrokenBarrierError:
        pass
    reports = [results.get(timeout=seconds + 300) for _ in processes]
    for process in processes:
        process.join()
    errors = [error for *_, error in reports if error]
    if errors:
        raise RuntimeError(f"{len(errors)} worker(s) failed: {errors[0]}")
    # CLOCK_MONOTONIC is system-wide, so the children's perf_counter readings compare.
    elapsed = max(end for _, end, _, _ in reports) - min(start for start, _, _, _ in reports)
    return elapsed, [value for _, _, per_worker, _ in reports for value in per_worker]


def checkpoint() -> None:
    """CHECKPOINT: write every dirty buffer now (untimed), rather than let the checkpointer spread the
    writes of millions of rows loaded or changed just before over the next measurements (the
    server's checkpoint_completion_target spreads them over most of checkpoint_timeout). It needs a
    superuser or pg_checkpoint; without them the benchmark says so and goes on."""
    from django.db import DatabaseError, connection

    t0 = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as error:
        print(f"  (no CHECKPOINT before this section: {error})".rstrip(), flush=True)
        return
    print(f"  (CHECKPOINT, {time.perf_counter() - t0:.1f} s, not timed)", flush=True)
