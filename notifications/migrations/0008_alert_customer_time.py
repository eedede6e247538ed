"""A customer's alerts newest first (its customer page and alert history): without it PostgreSQL
scanned every alert, as the unique key is partial (status alerts may repeat in a day). Built
CONCURRENTLY on PostgreSQL so that writing alerts goes on while it builds."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyWherePossible(AddIndexConcurrently):
    """SQLite (make run) has no CONCURRENTLY: a plain CREATE INDEX there."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("notifications", "0007_alert_bound_credit_customer_unread"),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name="alert",
            index=models.Index(fields=["customer", "-created_at", "-id"], name="alert_customer_time"),
        ),
    ]
