"""PostgreSQL: usage charges partitioned by month of created_at (when the charge was recorded),
with UNIQUE (reseller, external id) kept across partitions by credits_usagechargekey, which a
trigger writes in the same statement as each charge. Existing charges are copied into the
partitioned table (their months' partitions are made first), then the current month and the three
after it are made ahead (beat keeps making them: credits.tasks.usage_partitions_ensure).

Why the recorded time and not incurred_at: billing lags and incurred_at may lie anywhere back to
2000, so a month partitioned by incurred_at never closes (a late charge can land in a month an
operator has archived); the recorded month closes when it ends and is then never written again, so
it can be detached and archived (README: "Usage charge partitions"). SQLite keeps a plain table."""

from datetime import UTC, datetime

from django.db import migrations, models

AHEAD = 3

CREATE = """
CREATE SEQUENCE credits_usagecharge_partitioned_id_seq;
CREATE TABLE credits_usagecharge_partitioned (
    id bigint NOT NULL DEFAULT nextval('credits_usagecharge_partitioned_id_seq'),
    amount numeric(16, 2) NOT NULL,
    incurred_at timestamp with time zone NOT NULL,
    external_id varchar(128) NOT NULL,
    product varchar(100) NOT NULL,
    description varchar(255) NOT NULL,
    source varchar(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    customer_id bigint NOT NULL,
    reseller_id bigint NOT NULL,
    CONSTRAINT usage_charge_amount_positive CHECK (amount > 0),
    CONSTRAINT credits_usagecharge_partitioned_pkey PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
"""
COLUMNS = "id, amount, incurred_at, external_id, product, description, source, created_at, customer_id, reseller_id"

# The old table's indexes are made again with their names (Django's state knows them); the UNIQUE
# (reseller, external id) becomes a plain index for lookups, its uniqueness kept by the key table.
SWAP = f"""
INSERT INTO credits_usagecharge_partitioned ({COLUMNS}) SELECT {COLUMNS} FROM credits_usagecharge;
INSERT INTO credits_usagechargekey (reseller_id, external_id, customer_id, amount)
    SELECT reseller_id, external_id, customer_id, amount FROM credits_usagecharge;
SELECT setval('credits_usagecharge_partitioned_id_seq', COALESCE((SELECT max(id) FROM credits_usagecharge), 0) + 1, false);
DROP TABLE credits_usagecharge;
ALTER TABLE credits_usagecharge_partitioned RENAME TO credits_usagecharge;
ALTER SEQUENCE credits_usagecharge_partitioned_id_seq RENAME TO credits_usagecharge_id_seq;
ALTER SEQUENCE credits_usagecharge_id_seq OWNED BY credits_usagecharge.id;
ALTER TABLE credits_usagecharge RENAME CONSTRAINT credits_usagecharge_partitioned_pkey TO credits_usagecharge_pkey;
ALTER TABLE credits_usagecharge ADD CONSTRAINT credits_usagecharge_customer_id_83d56e0a_fk_customers
    FOREIGN KEY (customer_id) REFERENCES customers_customer (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE credits_usagecharge ADD CONSTRAINT credits_usagecharge_reseller_id_88ab9d09_fk_customers
    FOREIGN KEY (reseller_id) REFERENCES customers_reseller (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX usage_charge_external_id_per_reseller ON credits_usagecharge (reseller_id, external_id);
CREATE INDEX credits_usagecharge_customer_id_83d56e0a ON credits_usagecharge (customer_id);
CREATE INDEX credits_usagecharge_reseller_id_88ab9d09 ON credits_usagecharge (reseller_id);
CREATE INDEX usage_charge_customer_time ON credits_usagecharge (customer_id, incurred_at DESC, id DESC);

-- One charge per (reseller, external id), whatever path inserts it: the key's primary key refuses
-- a duplicate in the same statement. Reseller and external id never change afterwards, and a
-- deleted charge frees its key (an archived month's charges are detached, not deleted: their
-- keys stay, so their external ids are still recognised).
CREATE FUNCTION credits_usagecharge_key() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO credits_usagechargekey (reseller_id, external_id, customer_id, amount)
            VALUES (NEW.reseller_id, NEW.external_id, NEW.customer_id, NEW.amount);
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF (NEW.reseller_id, NEW.external_id, NEW.customer_id, NEW.amount)
                IS DISTINCT FROM (OLD.reseller_id, OLD.external_id, OLD.customer_id, OLD.amount) THEN
            RAISE EXCEPTION 'a usage charge keeps its reseller, external id, customer and amount'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    DELETE FROM credits_usagechargekey WHERE reseller_id = OLD.reseller_id AND external_id = OLD.external_id;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER credits_usagecharge_key BEFORE INSERT OR UPDATE OR DELETE ON credits_usagecharge
    FOR EACH ROW EXECUTE FUNCTION credits_usagecharge_key();
"""


def month_start(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def partition_sql(start: datetime) -> str:
    end = month_start(start.year, start.month + 1)
    return (
        f"CREATE TABLE IF NOT EXISTS credits_usagecharge_y{start.year:04d}m{start.month:02d} "
        f"PARTITION OF credits_usagecharge_partitioned FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE, params=None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT min(created_at) FROM credits_usagecharge")
        oldest = cursor.fetchone()[0]
    now = datetime.now(UTC)
    first = oldest.astimezone(UTC) if oldest is not None and oldest < now else now
    month = first.year * 12 + first.month - 1
    while month <= now.year * 12 + now.month - 1 + AHEAD:
        schema_editor.execute(partition_sql(month_start(month // 12, month % 12 + 1)), params=None)
        month += 1
    schema_editor.execute(SWAP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0006_repayment_immutable"),
        ("customers", "0002_alert_channels"),
    ]

    operations = [
        migrations.CreateModel(
            name="UsageChargeKey",
            fields=[
                ("pk", models.CompositePrimaryKey("reseller_id", "external_id", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("reseller_id", models.BigIntegerField()),
                ("external_id", models.CharField(max_length=128)),
                ("customer_id", models.BigIntegerField()),
                ("amount", models.DecimalField(decimal_places=2, max_digits=16)),
            ],
        ),
        # Not reversible: going back would need every archived month back first.
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
