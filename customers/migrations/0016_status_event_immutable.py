"""PostgreSQL refuses UPDATE and DELETE of status events: each is the immutable record of one
transition (DESIGN §4), as allocation records and repayments are."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION customers_statusevent_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'status events are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS customers_statusevent_immutable ON customers_statusevent;
CREATE TRIGGER customers_statusevent_immutable
    BEFORE UPDATE OR DELETE ON customers_statusevent
    FOR EACH ROW EXECUTE FUNCTION customers_statusevent_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS customers_statusevent_immutable ON customers_statusevent;
DROP FUNCTION IF EXISTS customers_statusevent_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("customers", "0015_overdue_recorded")]
    operations = [migrations.RunPython(forwards, backwards)]
