"""Trigram indexes so that My Customers' substring search (name, remark, e-mail) does not scan
every customer of a reseller. Django writes `icontains` as UPPER(col) LIKE UPPER(%s), so the
indexes are on that expression. PostgreSQL only; elsewhere this migration does nothing."""

from django.db import migrations

COLUMNS = ["name", "remark", "email"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customer_{column}_trgm ON customers_customer "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)",
            params=None,
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS customer_{column}_trgm", params=None)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_alert_channels")]
    operations = [migrations.RunPython(forwards, backwards)]
