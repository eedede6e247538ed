"""Settings parse strictly: a value that is not understood stops start-up, naming the variable and
what it accepts. Run the way an operator meets it: `manage.py check` in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage_check(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env={**os.environ, "PARTNERCENTER_TESTING": "1", **env},
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(("name", "value", "accepts"), [
    ("DEBUG", "Ture", "use true/false, yes/no, on/off or 1/0"),
    ("SECURE_SSL_REDIRECT", "maybe", "use true/false, yes/no, on/off or 1/0"),
    ("API_RATE_LIMIT_CREDIT", "five", "a whole number of at least 0"),
    ("DELIVERY_MAX_ATTEMPTS", "0", "a whole number of at least 1"),
    ("EMAIL_PORT", "70000", "a whole number from 1 to 65535"),
    ("ALERT_SWEEP_BATCH", "１２", "a whole number of at least 1"),
    ("CREDIT_MAX_PER_OPERATION", "100.001", "a positive amount with at most 2 decimal places"),
    ("CREDIT_MAX_PER_OPERATION", "1e6", "a positive amount with at most 2 decimal places"),
    ("CREDIT_MAX_PER_OPERATION", "-5", "a positive amount with at most 2 decimal places"),
    ("LOG_LEVEL", "loud", "use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("TIME_ZONE", "Mars/Olympus", "an IANA name such as UTC"),
    ("DEFAULT_RESELLER_TIME_ZONE", "UTC+8", "an IANA name such as UTC"),
    ("DATABASE_URL", "mysqlx://db/partnercenter", "use a URL such as postgres://"),
    ("REDIS_URL", "127.0.0.1:6379", "use redis://host:6379/0"),
    ("SMS_BACKEND", "tencnet", "use console, file, locmem, tencent or a dotted class path"),
    ("TRUSTED_PROXY_COUNT", "yes", "a whole number of at least 0"),
    ("SIGNIN_IP_FAILURE_LIMIT", "5", "must be higher than SIGNIN_FAILURE_LIMIT=5"),
])
def test_a_bad_value_stops_start_up_naming_the_variable(name, value, accepts):
    result = manage_check(**{name: value})
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("django.core.exceptions.ImproperlyConfigured: ") and name in message and accepts in message


@pytest.mark.parametrize(("name", "value"), [("DEBUG", "YES"), ("DEBUG", " off "), ("DEBUG", ""), ("LOG_LEVEL", "debug"),
                                             ("CREDIT_MAX_PER_OPERATION", "2500.5"), ("TRUSTED_PROXY_COUNT", "1"),
                                             ("SMS_BACKEND", "tests.sms.Backend")])
def test_good_values_start(name, value):
    result = manage_check(**{name: value})
    assert result.returncode == 0, result.stderr


def test_the_development_file_broker_names_its_host(tmp_path):
    """Without REDIS_URL (make run) the broker is kombu's file transport; its URL names a host, so
    kombu does not log "No hostname was supplied" from every command that enqueues a task."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "PARTNERCENTER_TESTING")}
    env.update(DEBUG="true", PARTNERCENTER_VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    script = ("import django; django.setup(); from django.conf import settings; from kombu import Connection; "
              "c = Connection(settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS); "
              "print(c.transport_cls, c.info()['hostname'])")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**env, "DJANGO_SETTINGS_MODULE": "partnercenter.settings"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["filesystem", "localhost"] and "No hostname" not in result.stderr
