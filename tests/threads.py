"""Real threads for the race tests (PostgreSQL: each thread opens its own connection)."""

import threading
import time
from collections.abc import Callable

from django.db import connections

JOIN_SECONDS = 60


def run_together(targets: list[Callable[[], object]], *, timeout: float = JOIN_SECONDS) -> list[str]:
    """Run each target in its own thread, all released at once, and wait for every one; return the
    repr() of each exception a target raised. A thread still running after `timeout` seconds (a
    deadlock, a lock never released) fails the test: joining with a timeout alone would let the
    assertions run against a race that has not finished."""
    barrier = threading.Barrier(len(targets))
    errors: list[str] = []

    def run(target):
        try:
            barrier.wait()
            target()
        except BaseException as error:  # reported to the caller, which asserts on the list
            errors.append(repr(error))
        finally:
            connections.close_all()

    # Daemon threads: one that never ends must not keep the test process alive as well.
    threads = [threading.Thread(target=run, args=(target,), daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = sum(thread.is_alive() for thread in threads)
    assert running == 0, f"{running} of {len(threads)} threads still running after {timeout:.0f} s (a deadlock?)"
    return errors
