"""The broker's edge for a redis:// REDIS_URL (core.broker.RedisTransport): kombu's Redis transport,
whose channel publishes through one kept client instead of a new redis.Redis per message; and
Celery's configuration read from Django's CELERY_* settings (partnercenter.celery.DjangoCelerySettings)."""

import os

import pytest
from django.conf import settings

from core.broker import RedisTransport
from notifications import tasks
from partnercenter.celery import app

needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://...")


def test_celery_reads_the_django_settings():
    assert app.conf.task_default_queue == settings.CELERY_TASK_DEFAULT_QUEUE
    assert app.conf.task_publish_retry_policy == settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_ignore_result is True
    assert app.conf.task_acks_late is False  # not set in Django's settings: Celery's default


@needs_redis
def test_messages_are_published_through_one_kept_client():
    assert settings.REDIS_URL.startswith("redis://")
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, RedisTransport)
        app.control.purge(connection=conn)
        channel = conn.default_channel
        made = []
        create = channel._create_client
        channel._create_client = lambda *args, **kwargs: made.append(1) or create(*args, **kwargs)
        try:
            for customer_id in (1, 2, 3):
                tasks.customer_evaluate.apply_async((customer_id,), connection=conn)
            # One client, made for the first message (or before): none for each one after.
            assert len(made) <= 1
            with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
                assert first is second
            assert channel.client.llen(queue) == 3
            received = []
            with conn.SimpleQueue(queue, no_ack=True) as simple:
                for _ in range(3):
                    message = simple.get(timeout=5)
                    received.append((message.headers["task"], message.payload[0]))
            assert received == [("notifications.tasks.customer_evaluate", [n]) for n in (1, 2, 3)]
        finally:
            channel._create_client = create
            app.control.purge(connection=conn)
