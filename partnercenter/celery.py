import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnercenter.settings")

app = Celery("partnercenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule lives in code; each app adds its periodic jobs in partnercenter/schedule.py.
from partnercenter.schedule import BEAT_SCHEDULE  # noqa: E402

app.conf.beat_schedule = BEAT_SCHEDULE
