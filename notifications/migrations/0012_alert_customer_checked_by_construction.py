"""No foreign-key constraint from an alert to its customer on PostgreSQL (the one on (customer_id,
reseller_id) that migration 0009 added). Its check at commit takes a KEY SHARE lock on the
customer's row for every alert written, and locking a row writes it: the sweep's 100,000 alerts
over 1,000,000 customers (one in 20 crossing) dirtied nearly every page of the customer table, each
written whole to the WAL as the first change after a checkpoint. One sweep wrote 351 MB of WAL with
the constraint and 183 MB without (same database, same sweep).

What it checked holds by construction: every alert is inserted by a statement that reads its
customer's row or its balance (the evaluation's INSERT ... SELECT from the customer, a status
event's from the balance it changed, a notice's from the customer) and copies the reseller from it
(the balance's is the customer's: its own foreign key on (customer, reseller)); no code deletes a
customer or moves it to another reseller (the admin can do neither), and the database still refuses
deleting a customer that has a balance or ledger rows. Django's CASCADE deletes a customer's alerts
with it. The model's fields already say db_constraint=False (0009): only PostgreSQL changes."""

from importlib import import_module

from django.db import migrations

# Migration 0009, which added the constraint: its name, and (backwards) its forwards adds it again.
_0009 = import_module("notifications.migrations.0009_alert_customer_of_reseller")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE notifications_alert DROP CONSTRAINT IF EXISTS {_0009.COMPOSITE}")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0011_delivery_alert_checked_by_construction"),
    ]

    operations = [migrations.RunPython(forwards, _0009.forwards, elidable=False)]
