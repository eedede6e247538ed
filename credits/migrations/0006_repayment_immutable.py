"""PostgreSQL refuses UPDATE and DELETE of repayments, as it does for allocation records (0002)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION credits_repayment_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'repayments are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS credits_repayment_immutable ON credits_repayment;
CREATE TRIGGER credits_repayment_immutable
    BEFORE UPDATE OR DELETE ON credits_repayment
    FOR EACH ROW EXECUTE FUNCTION credits_repayment_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS credits_repayment_immutable ON credits_repayment;
DROP FUNCTION IF EXISTS credits_repayment_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("credits", "0005_repayment")]
    operations = [migrations.RunPython(forwards, backwards)]
