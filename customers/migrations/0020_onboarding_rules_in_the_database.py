"""Three onboarding rules the services keep under their row locks, now also kept by PostgreSQL, so
that no other path (the admin, SQL, a future service) can break them:
- an application's reseller is its invitation's: a foreign key on (invitation, reseller);
- an approved application's customer is its login's: a foreign key on (login, customer), which
  MATCH SIMPLE skips while the application has no customer (pending, rejected);
- an invitation is marked used exactly when it has an application: a constraint trigger, checked at
  commit (registration writes the application and marks the invitation in one transaction).
The foreign keys need (id, reseller) and (id, customer) to be unique on their targets (they are,
as id is). All three are deferred to the commit, as Django's own foreign keys are. SQLite (make run)
keeps the unique constraints and relies on the services."""

from django.db import migrations, models

FORWARDS = """
ALTER TABLE customers_application ADD CONSTRAINT application_reseller_is_its_invitations
    FOREIGN KEY (invitation_id, reseller_id) REFERENCES customers_invitation (id, reseller_id)
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE customers_application ADD CONSTRAINT application_customer_is_its_logins
    FOREIGN KEY (login_id, customer_id) REFERENCES customers_customerlogin (id, customer_id)
    DEFERRABLE INITIALLY DEFERRED;

CREATE FUNCTION customers_invitation_used_iff_applied() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    invitation bigint;
    used boolean;
    applied boolean;
BEGIN
    IF TG_TABLE_NAME = 'customers_invitation' THEN
        invitation := NEW.id;
    ELSE
        invitation := NEW.invitation_id;
    END IF;
    SELECT used_at IS NOT NULL INTO used FROM customers_invitation WHERE id = invitation;
    IF used IS NULL THEN
        RETURN NULL;  -- the invitation is gone (its application went first, or with it)
    END IF;
    applied := EXISTS (SELECT 1 FROM customers_application WHERE invitation_id = invitation);
    IF used <> applied THEN
        RAISE EXCEPTION 'invitation % is marked used only when it has an application (used: %, application: %)',
            invitation, used, applied USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER customers_invitation_used_iff_applied
    AFTER INSERT OR UPDATE OF used_at ON customers_invitation
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION customers_invitation_used_iff_applied();
CREATE CONSTRAINT TRIGGER customers_application_used_iff_applied
    AFTER INSERT OR UPDATE OF invitation_id ON customers_application
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION customers_invitation_used_iff_applied();
"""

BACKWARDS = """
DROP TRIGGER IF EXISTS customers_application_used_iff_applied ON customers_application;
DROP TRIGGER IF EXISTS customers_invitation_used_iff_applied ON customers_invitation;
DROP FUNCTION IF EXISTS customers_invitation_used_iff_applied();
ALTER TABLE customers_application DROP CONSTRAINT IF EXISTS application_customer_is_its_logins;
ALTER TABLE customers_application DROP CONSTRAINT IF EXISTS application_reseller_is_its_invitations;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARDS, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARDS, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0019_application_language"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="invitation",
            constraint=models.UniqueConstraint(fields=["id", "reseller"], name="invitation_id_reseller"),
        ),
        migrations.AddConstraint(
            model_name="customerlogin",
            constraint=models.UniqueConstraint(fields=["id", "customer"], name="customer_login_id_customer"),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
