"""Enqueueing follow-up work once a write has committed: the one mechanism behind
partnercenter.celery.Task's `delay_on_commit` / `apply_async_on_commit` and behind tasks sent by
name from a lower layer (customers sends notifications' tasks without importing them).

The write is committed by the time the task is published, so a broker failure must never reach the
caller as an error (the API would answer InternalError for a committed allocation, inviting a retry
that allocates twice): it is logged, and the periodic jobs catch up where there is one."""

import logging
from collections.abc import Callable
from contextlib import contextmanager
from functools import cached_property, partial

from django.db import transaction
from kombu.exceptions import KombuError
from kombu.transport import redis as kombu_redis

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


class _RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, keeping the one client it publishes (and purges, binds…) through
    instead of making a new one for every message: a redis.Redis object costs its ~170 response
    callbacks each time it is made (a sixth of an allocation's CPU went to it). The client holds
    no connection of its own: every command still takes one from the channel's pool, as before."""

    @contextmanager
    def conn_or_acquire(self, client=None):
        yield client or self._kept_client

    @cached_property
    def _kept_client(self):
        return self._create_client()


class RedisTransport(kombu_redis.Transport):
    """settings.CELERY_BROKER_TRANSPORT for a redis:// broker: kombu's, with _RedisChannel."""

    Channel = _RedisChannel
