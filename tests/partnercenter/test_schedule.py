"""The beat schedule names tasks by string: a typo, or a tasks module autodiscovery does not find,
is a periodic job that silently never runs (beat publishes it, the worker discards it as an
unregistered task). Checked in a fresh process, as a worker starts: nothing imported beforehand."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What a worker does at start-up: import the app, then the default modules, which runs
# autodiscovery (app.autodiscover_tasks() waits for that signal); then list what it would run.
AS_A_WORKER_STARTS = """
import json
from partnercenter.celery import app
app.loader.import_default_modules()
print(json.dumps({"schedule": {name: entry["task"] for name, entry in app.conf.beat_schedule.items()},
                  "registered": sorted(app.tasks)}))
"""


def test_every_beat_entry_names_a_task_the_worker_registers():
    env = {**os.environ, "PARTNERCENTER_TESTING": "1", "DJANGO_SETTINGS_MODULE": "partnercenter.settings",
           "DEMO_USAGE_SIMULATOR": "true"}  # every entry, the demo's included
    result = subprocess.run([sys.executable, "-c", AS_A_WORKER_STARTS], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    schedule, registered = found["schedule"], set(found["registered"])
    assert {"alerts-sweep", "deliveries-resend-stuck", "demo-usage-simulator", "api-signed-requests-expire",
            "suspension-deadlines", "overdue-sweep"} <= set(schedule)
    assert {name: task for name, task in schedule.items() if task not in registered} == {}
