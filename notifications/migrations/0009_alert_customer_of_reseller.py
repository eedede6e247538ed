"""An alert's reseller is its customer's, backed by PostgreSQL: one foreign key on (customer_id,
reseller_id) to the customer's (id, reseller_id), as the balance has (customers 0010), in place of
the two the alert had, customer_id to the customer and reseller_id to the reseller. Each alert
written was checked against both at commit; one lookup now checks both, and the reseller can no
longer differ from the customer's. The sweep writes 100,000 alerts over 1,000,000 customers: the
reseller's check was about 3 % of it (measured, README "Benchmarks"). If a customer's reseller
changes, its alerts' follows (ON UPDATE CASCADE), as its balance's does.

The model's two fields say db_constraint=False (the ORM still deletes an alert with its customer
or reseller: on_delete is Django's). SQLite keeps its two foreign keys: only the state changes there."""

from django.db import migrations, models
import django.db.models.deletion

COMPOSITE = "alert_customer_of_reseller"


def _foreign_keys(schema_editor, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, "notifications_alert")
    return [name for name, info in constraints.items() if info["foreign_key"] and info["columns"] == [column]]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in ("customer_id", "reseller_id"):
        for name in _foreign_keys(schema_editor, column):
            schema_editor.execute(f'ALTER TABLE notifications_alert DROP CONSTRAINT "{name}"')
    schema_editor.execute(
        f"ALTER TABLE notifications_alert ADD CONSTRAINT {COMPOSITE} FOREIGN KEY (customer_id, reseller_id) "
        "REFERENCES customers_customer (id, reseller_id) ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE notifications_alert DROP CONSTRAINT {COMPOSITE}")
    schema_editor.execute(
        "ALTER TABLE notifications_alert ADD CONSTRAINT notifications_alert_customer_id_fk_customers "
        "FOREIGN KEY (customer_id) REFERENCES customers_customer (id) DEFERRABLE INITIALLY DEFERRED"
    )
    schema_editor.execute(
        "ALTER TABLE notifications_alert ADD CONSTRAINT notifications_alert_reseller_id_fk_customers "
        "FOREIGN KEY (reseller_id) REFERENCES customers_reseller (id) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0023_balance_burn_rate_is_its_sum_averaged"),
        ("notifications", "0008_alert_customer_time"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="alert",
                    name="customer",
                    field=models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE, related_name="alerts",
                                            to="customers.customer"),
                ),
                migrations.AlterField(
                    model_name="alert",
                    name="reseller",
                    field=models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE, related_name="alerts",
                                            to="customers.reseller"),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
