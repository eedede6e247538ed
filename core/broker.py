"""Enqueueing follow-up work once a write has committed: the one mechanism behind
partnercenter.celery.Task's `delay_on_commit` / `apply_async_on_commit` and behind tasks sent by
name from a lower layer (customers sends notifications' tasks without importing them).

The write is committed by the time the task is published, so a broker failure must never reach the
caller as an error (the API would answer InternalError for a committed allocation, inviting a retry
that allocates twice): it is logged, and the periodic jobs catch up where there is one."""

import logging
from collections.abc import Callable
from functools import partial

from django.db import transaction
from kombu.exceptions import KombuError

logger = logging.getLogger("partnercenter.celery")


def publish_logged(publish: Callable[[], object], *, name: str, args: tuple, remedy: str = "") -> None:
    """Call `publish` (it hands task `name` with `args` to the broker); a broker failure is logged
    with `remedy` (what catches up), never raised."""
    try:
        publish()
    except KombuError:
        logger.exception("Could not enqueue %s%r after commit (the broker is unavailable)%s.", name, args, remedy)


def send_task_on_commit(name: str, args: tuple, *, remedy: str = "") -> None:
    """Send the task registered as `name` once the current transaction commits (by name: the
    caller's app sits below the one that defines it); a broker failure is logged, not raised."""
    from celery import current_app

    transaction.on_commit(
        partial(publish_logged, partial(current_app.send_task, name, args=args), name=name, args=args, remedy=remedy)
    )
