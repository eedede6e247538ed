"""Usage charges: an index on (source, id), so the Django admin's "source" filter finds the newest
charges of one source without walking back through every newer charge of the others (4 s at
10,000,000 `system` charges before 50 imports); and the two single-column foreign-key indexes go,
as usage_charge_customer_time leads with the customer and usage_charge_external_id_per_reseller
with the reseller. Every charge then writes one index fewer than before.

PostgreSQL: the table is partitioned, and CREATE INDEX CONCURRENTLY does not take a partitioned
table, so the index is made ON ONLY the parent (invalid until complete), then CONCURRENTLY on each
partition (ingestion goes on meanwhile) and attached; partitions made later inherit it. SQLite
(make run) keeps a plain table and plain operations."""

from django.db import migrations, models

PARENT = "credits_usagecharge"
INDEX = "usage_charge_source"
FK_INDEXES = {
    "credits_usagecharge_customer_id_83d56e0a": "customer_id",
    "credits_usagecharge_reseller_id_88ab9d09": "reseller_id",
}


def _partitions(cursor) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass ORDER BY c.relname", [PARENT],
    )
    return [name for (name,) in cursor.fetchall()]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON ONLY {PARENT} (source, id)")
        for partition in _partitions(cursor):
            name = f"{partition}_source"
            # A build interrupted earlier leaves an invalid index: made again.
            cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
            row = cursor.fetchone()
            if row is not None and not row[0]:
                cursor.execute(f"DROP INDEX CONCURRENTLY {name}")
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {partition} (source, id)")
            cursor.execute(
                "SELECT 1 FROM pg_inherits WHERE inhrelid = %s::regclass AND inhparent = %s::regclass", [name, INDEX]
            )
            if cursor.fetchone() is None:
                cursor.execute(f"ALTER INDEX {INDEX} ATTACH PARTITION {name}")
        for name in FK_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, column in FK_INDEXES.items():
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {PARENT} ({column})")
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class OffPostgreSQL:
    """The schema change itself, on SQLite only: PostgreSQL's is forwards() above."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class AlterFieldOffPostgreSQL(OffPostgreSQL, migrations.AlterField):
    pass


class AddIndexOffPostgreSQL(OffPostgreSQL, migrations.AddIndex):
    pass


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("credits", "0009_usage_region_pay_mode_daily"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
        AlterFieldOffPostgreSQL(
            model_name="usagecharge",
            name="customer",
            field=models.ForeignKey(db_index=False, on_delete=models.deletion.PROTECT, related_name="usage_charges",
                                    to="customers.customer"),
        ),
        AlterFieldOffPostgreSQL(
            model_name="usagecharge",
            name="reseller",
            field=models.ForeignKey(db_index=False, on_delete=models.deletion.PROTECT, related_name="usage_charges",
                                    to="customers.reseller"),
        ),
        AddIndexOffPostgreSQL(
            model_name="usagecharge",
            index=models.Index(fields=["source", "id"], name=INDEX),
        ),
    ]
