"""PostgreSQL refuses UPDATE and DELETE of allocation records, whatever path tries.

Row-level only: TRUNCATE (used by test-database flushes) is not a row operation and stays
possible for the database owner.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION credits_allocationrecord_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'allocation records are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS credits_allocationrecord_immutable ON credits_allocationrecord;
CREATE TRIGGER credits_allocationrecord_immutable
    BEFORE UPDATE OR DELETE ON credits_allocationrecord
    FOR EACH ROW EXECUTE FUNCTION credits_allocationrecord_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS credits_allocationrecord_immutable ON credits_allocationrecord;
DROP FUNCTION IF EXISTS credits_allocationrecord_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
