import os
from collections.abc import Mapping
from functools import cached_property, partial

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction

from core.broker import publish_logged

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnercenter.settings")


class Task(DjangoTask):
    """Every task of the project. `delay_on_commit` / `apply_async_on_commit` are the one way to
    enqueue follow-up work from a write: the write is committed by the time the task is published,
    so a broker failure must never reach the caller as an error (the API would answer
    InternalError for a committed allocation, inviting a retry that allocates twice). It is
    logged instead, and the periodic jobs catch up: alerts_sweep evaluates and re-arms every
    customer, deliveries_resend_stuck sends pending deliveries whose task was never queued."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(partial(self._publish_committed, "delay", args, kwargs))

    def apply_async_on_commit(self, args=None, kwargs=None, **options) -> None:
        transaction.on_commit(partial(self._publish_committed, "apply_async", (args, kwargs), options))

    def _publish_committed(self, method: str, args: tuple, kwargs: dict) -> None:
        publish_logged(partial(getattr(self, method), *args, **kwargs), name=self.name, args=args,
                       remedy="; the periodic sweep will catch up")


class DjangoCelerySettings(Mapping):
    """Django's CELERY_* settings as Celery's configuration, read from django.conf.settings once
    (on Celery's first look, after Django has its settings), then kept: they do not change while a
    process runs. Celery looks several settings up for each task it publishes, trying two names
    for each, and every name Django's settings did not have raised AttributeError through the
    lazy settings object: about 15 µs a setting, a fifth of publishing an evaluation."""

    @cached_property
    def _values(self) -> dict:
        from django.conf import settings

        return {name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")}

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


app = Celery("partnercenter", task_cls=Task)
app.config_from_object(DjangoCelerySettings(), namespace="CELERY")
app.autodiscover_tasks()
# Each message carries its arguments written out for monitoring, by Celery's saferepr, which walks
# a list element by element in Python until it has written this many characters (Celery's default
# 1,024): a third of publishing a sweep batch's 500 delivery ids (0.75 ms a message, 0.53 ms with
# 160) and of a usage batch's evaluation. The message itself carries every argument.
ARGS_SHOWN = 160
app.amqp.argsrepr_maxsize = app.amqp.kwargsrepr_maxsize = ARGS_SHOWN

# The beat schedule lives in code; each app adds its periodic jobs in partnercenter/schedule.py.
from partnercenter.schedule import BEAT_SCHEDULE  # noqa: E402

app.conf.beat_schedule = BEAT_SCHEDULE
