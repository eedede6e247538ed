"""PostgreSQL: the daily rollups' pages are filled to 85 % on insert, so that the upsert of a
batch's charges onto a rollup row already there (an hourly-billed product's row changes every hour
of its day) finds room on the row's own page and is a HOT update: amount and charges are in no
index, so no index gets a new entry. With full pages each such update wrote the row elsewhere and
an entry in each of the table's three indexes. On the benchmark's 10,000,000 rollups, the upsert of
a batch of 1,000 charges onto existing rows took 29 ms with full pages and 17-20 ms at 70 %
(`auto_explain`), and ReportCustomerUsage in-process went from 0.61-0.69 to 0.74-0.77 of the
hand-written SQL at 85 %.

The setting applies to pages written from now on; an operator who wants it for the rows already
there rewrites the table (VACUUM FULL credits_usagedaily, which locks it) when ingestion is
stopped. SQLite (make run) has no such setting."""

from django.db import migrations

FILLFACTOR = 85


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE credits_usagedaily SET (fillfactor = {FILLFACTOR})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE credits_usagedaily RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ("credits", "0013_usage_daily_lean_writes"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
