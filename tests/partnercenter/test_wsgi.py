"""partnercenter.wsgi loads what a web process's first request would otherwise load (the URLconf
with every view, the Celery app's task registry), and opens no database connection doing so."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from django.db import connections
import partnercenter.wsgi
from partnercenter.celery import app
print(sorted(name for name in ("partnercenter.urls", "api.views", "customers.views", "credits.views") if name in sys.modules))
print(app.finalized, "notifications.tasks.customer_evaluate" in app.tasks)
print([alias for alias in connections if connections[alias].connection is not None])
"""


def test_the_wsgi_module_loads_the_views_and_the_task_registry_without_connecting():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "partnercenter.settings", "DEBUG": "false",
           "SECRET_KEY": "wsgi-test-key", "PARTNERCENTER_TESTING": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "['api.views', 'credits.views', 'customers.views', 'partnercenter.urls']",
        "True True",
        "[]",
    ]
