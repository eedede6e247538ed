"""Used % on SQLite (make run): the stored used_ratio divided two whole amounts as integers there
(used 500 / credit 1000 stored 0), so sorting by Used % put half-used customers among the unused.
customers.models.Quotient casts the dividend to REAL on SQLite only.

PostgreSQL's column is the same SQL before and after (test_used_ratio_sql_is_unchanged_on_postgresql),
so the database is left alone there: only the migration state changes. SQLite cannot alter a
generated column, so its table is rebuilt with the column written afresh. Going back leaves SQLite's
corrected column in place (the state goes back; the old integer division is not restored)."""

from decimal import Decimal

from django.db import migrations, models

import customers.models


def rebuild_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    balance = apps.get_model("customers", "CustomerBalance")
    field = balance._meta.get_field("used_ratio")
    index = next(index for index in balance._meta.indexes if index.name == "balance_reseller_used_ratio")
    schema_editor.remove_index(balance, index)
    schema_editor.remove_field(balance, field)
    # A stored generated column cannot be added in place: SQLite's schema editor rebuilds the table,
    # with the model's indexes, balance_reseller_used_ratio among them.
    schema_editor.add_field(balance, field)


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0020_onboarding_rules_in_the_database"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="customerbalance",
                    name="used_ratio",
                    field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(credit__gt=0, then=customers.models.Quotient(models.F("used"), models.F("credit"))), models.When(then=models.Value(None), used__gt=0), default=models.Value(Decimal("0")), output_field=models.DecimalField(decimal_places=6, max_digits=24)), output_field=models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ),
            ],
        ),
        migrations.RunPython(rebuild_on_sqlite, migrations.RunPython.noop),
    ]
