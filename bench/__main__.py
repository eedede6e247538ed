"""`make bench`: every benchmark section, each printing its figures and its ratio to a baseline
measured in the same run. `python -m bench ledger console` runs only those sections."""

import importlib
import os
import sys

SECTIONS = ["ledger", "console", "alerts", "api", "ingest", "latency", "usage"]


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnercenter.settings")
    # Benchmarks run with DEBUG off (DEBUG keeps every query in memory), so they need their own key.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    from bench.common import prepare_database

    prepare_database()
    chosen = argv or SECTIONS
    for name in chosen:
        if name not in SECTIONS:
            print(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}")
            return 2
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        upkeep()
        importlib.import_module(f"bench.{name}").run()
    from partnercenter.celery import app

    # Nothing consumes the evaluations the benchmark's allocations enqueued: drop them.
    app.control.purge()
    return 0


# The tables every section's writes leave dead rows in (balances: each allocation and charge).
UPKEEP_VACUUM = ("customers_customerbalance", "customers_customer", "credits_creditpool", "credits_usagechargekey",
                 "credits_usagedaily")


def upkeep() -> None:
    """What autovacuum does for a production database, done before each section when the server
    runs without it (autovacuum = off: no statistics for tables written since the last ANALYZE, and
    every earlier section's dead balance rows still in the heap and its indexes); then a checkpoint,
    so that the earlier sections' writes are not flushed while this one is timed. Not timed."""
    import time

    from django.db import connection

    from bench.common import checkpoint

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] != "on":
            t0 = time.perf_counter()
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(UPKEEP_VACUUM)}")
            cursor.execute("ANALYZE")
            print(f"  (autovacuum is off on this server: VACUUM ANALYZE of the balances and ANALYZE of every table "
                  f"first, {time.perf_counter() - t0:.0f} s, not timed)", flush=True)
    checkpoint()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
