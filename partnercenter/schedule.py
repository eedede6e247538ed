"""Celery beat schedule, kept in code (one entry per periodic job)."""

BEAT_SCHEDULE: dict = {}
