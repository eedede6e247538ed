"""PostgreSQL: credits_allocation_incomplete(), which aborts the statement that calls it.

credit_allocate, outside any transaction, sends its statement (_ALLOCATE) as a transaction of its
own, with no BEGIN and COMMIT around it: the statement calls this function when it could not
complete the allocation by itself (the pool refused it, its idempotency key was used before, or the
customer's available credit crossed zero, which needs the status event in the same transaction).
The error rolls the whole statement back, and credit_allocate runs the allocation again in a
transaction that answers the case (services._ALLOCATE_ALONE)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION credits_allocation_incomplete() RETURNS bigint AS $$
BEGIN
    RAISE EXCEPTION 'the allocation is not complete in one statement: rolled back'
        USING ERRCODE = 'PC001';
END;
$$ LANGUAGE plpgsql;
"""

DROP = "DROP FUNCTION IF EXISTS credits_allocation_incomplete();"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("credits", "0010_usage_charge_source_index")]
    operations = [migrations.RunPython(forwards, backwards)]
