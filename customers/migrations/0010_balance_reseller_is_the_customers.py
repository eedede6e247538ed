"""The balance's copy of the reseller is the customer's, backed by PostgreSQL: a foreign key on
(customer_id, reseller_id) to the customer's (id, reseller_id). The console's sorts and filters
read the balance's per-reseller indexes, so a balance with another reseller would hide the customer
from them; check_ledger reported it, now the database refuses it. If a customer's reseller changes,
its balance's follows (ON UPDATE CASCADE). SQLite keeps check_ledger's check only."""

from django.db import migrations

FORWARDS = [
    "ALTER TABLE customers_customer ADD CONSTRAINT customer_id_reseller UNIQUE (id, reseller_id)",
    "ALTER TABLE customers_customerbalance ADD CONSTRAINT balance_reseller_is_the_customers "
    "FOREIGN KEY (customer_id, reseller_id) REFERENCES customers_customer (id, reseller_id) "
    "ON UPDATE CASCADE ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
]
BACKWARDS = [
    "ALTER TABLE customers_customerbalance DROP CONSTRAINT balance_reseller_is_the_customers",
    "ALTER TABLE customers_customer DROP CONSTRAINT customer_id_reseller",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_customer_balance"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARDS), _run(BACKWARDS)),
    ]
