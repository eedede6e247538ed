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
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"bench.{name}").run()
    from partnercenter.celery import app

    # Nothing consumes the evaluations the benchmark's allocations enqueued: drop them.
    app.control.purge()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
