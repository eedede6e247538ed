"""Celery beat schedule, kept in code (one entry per periodic job)."""

from django.conf import settings

BEAT_SCHEDULE: dict = {}

# Usage alerts (DESIGN §3). The sweep also sends the daily reminder: the first sweep of a new day
# in the reseller's time zone re-alerts customers still above a threshold.
BEAT_SCHEDULE["alerts-sweep"] = {"task": "notifications.tasks.alerts_sweep", "schedule": 300.0}
BEAT_SCHEDULE["deliveries-resend-stuck"] = {"task": "notifications.tasks.deliveries_resend_stuck", "schedule": 60.0}
# Usage charges are partitioned by month on PostgreSQL: make the coming months' partitions ahead.
BEAT_SCHEDULE["usage-partitions-ensure"] = {"task": "credits.tasks.usage_partitions_ensure", "schedule": 86400.0}
# Burn rates (DESIGN §8): usage keeps the charged customers' rates current; a new day in a
# reseller's zone moves every customer's 7-day window, and zones start their days at different hours.
BEAT_SCHEDULE["burn-rates-refresh"] = {"task": "credits.tasks.burn_rates_refresh", "schedule": 3600.0}
if settings.DEMO_USAGE_SIMULATOR:
    BEAT_SCHEDULE["demo-usage-simulator"] = {"task": "credits.tasks.usage_simulate", "schedule": 60.0}
# Partner API (DESIGN §5): signatures older than the replay window are refused by their timestamp,
# so their rows are no longer needed.
BEAT_SCHEDULE["api-signed-requests-expire"] = {"task": "api.tasks.signed_requests_expire", "schedule": 60.0}
# Account status (DESIGN §4): deletion notices 7 days and 1 day before a suspended customer's data
# deadline, and the deadline itself. Idempotent: a run finding nothing due does nothing.
BEAT_SCHEDULE["suspension-deadlines"] = {"task": "notifications.tasks.suspension_deadlines", "schedule": 600.0}
# ... and the catch-up for balances changed outside the services (normally finds nothing).
BEAT_SCHEDULE["overdue-sweep"] = {"task": "notifications.tasks.overdue_sweep", "schedule": 300.0}
