"""PostgreSQL: usage charges partitioned by the month they are recorded in (migration 0007), one
charge per (reseller, external id) across every month, kept by the key table."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import IdempotencyConflict
from credits.models import UsageCharge, UsageChargeKey
from credits.services import usage_charge_record, usage_partitions_ensure
from customers.models import Customer
from partnercenter.schedule import BEAT_SCHEDULE
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def partition_of(charge) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM credits_usagecharge WHERE id = %s", [charge.pk])
        return cursor.fetchone()[0]


def months_ago(n: int) -> datetime:
    now = timezone.now().astimezone(UTC)
    month = now.year * 12 + now.month - 1 - n
    return datetime(month // 12, month % 12 + 1, 3, tzinfo=UTC)


def charge(customer, external_id, created_at, amount="1.00"):
    return UsageCharge.objects.create(reseller=customer.reseller, customer=customer, amount=Decimal(amount),
                                      incurred_at=created_at, external_id=external_id, created_at=created_at)


def test_a_charge_lands_in_the_partition_of_its_recorded_month():
    customer = CustomerFactory()
    recorded, _ = usage_charge_record(reseller=customer.reseller, customer_uin=customer.uin, amount="2.00",
                                      incurred_at="2001-02-03T04:05:06Z", external_id="e-1")
    now = timezone.now().astimezone(UTC)
    assert partition_of(recorded) == f"credits_usagecharge_y{now.year:04d}m{now.month:02d}"
    assert UsageChargeKey.objects.filter(reseller_id=customer.reseller_id, external_id="e-1", customer_id=customer.pk,
                                         amount=Decimal("2.00")).exists()


def test_migrate_made_this_month_and_three_ahead_and_ensure_makes_the_missing_ones():
    now = timezone.now().astimezone(UTC)
    assert usage_partitions_ensure(now=now) == []
    later = now + timedelta(days=31 * 5)
    made = usage_partitions_ensure(now=later, months_ahead=0)
    assert made == [f"credits_usagecharge_y{later.year:04d}m{later.month:02d}"]
    assert usage_partitions_ensure(now=later, months_ahead=0) == []
    assert BEAT_SCHEDULE["usage-partitions-ensure"]["task"] == "credits.tasks.usage_partitions_ensure"


def test_the_database_refuses_a_duplicate_external_id_in_another_month():
    usage_partitions_ensure(now=months_ago(2), months_ahead=0)
    customer = CustomerFactory()
    charge(customer, "dup", months_ago(2))
    with pytest.raises(IntegrityError), transaction.atomic():
        charge(customer, "dup", timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageCharge.objects.filter(external_id="dup").update(amount=Decimal("5.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageCharge.objects.create(reseller=customer.reseller, customer=customer, amount=Decimal("0.00"),
                                   incurred_at=timezone.now(), external_id="zero")
    assert UsageCharge.objects.count() == UsageChargeKey.objects.count() == 1


def test_a_month_with_no_partition_is_refused_and_nothing_is_written():
    customer = CustomerFactory()
    with pytest.raises(IntegrityError, match="no partition"), transaction.atomic():
        charge(customer, "far", timezone.now() + timedelta(days=365 * 3))
    assert not UsageCharge.objects.exists() and not UsageChargeKey.objects.exists()


def test_an_archived_month_still_keeps_its_external_ids():
    """What the README's archiving does: detach the month's partition, dump and drop it. The keys
    stay, so a charge re-sent from that month is a replay, and a different one is still refused."""
    usage_partitions_ensure(now=months_ago(3), months_ahead=0)
    customer = CustomerFactory(credit=Decimal("100.00"))
    old = charge(customer, "old-1", months_ago(3), amount="4.00")
    name = partition_of(old)
    with connection.cursor() as cursor:
        # (Dropped after its dump in production; here the test's transaction still holds the
        # charge's deferred foreign-key checks, so the detached table stays until rollback.)
        cursor.execute(f"ALTER TABLE credits_usagecharge DETACH PARTITION {name}")
    assert not UsageCharge.objects.exists()
    again, created = usage_charge_record(reseller=customer.reseller, customer_uin=customer.uin, amount="4.00",
                                         incurred_at=timezone.now(), external_id="new-1")
    assert created
    with pytest.raises(IdempotencyConflict, match="'old-1' was already used for a different charge"):
        usage_charge_record(reseller=customer.reseller, customer_uin=customer.uin, amount="9.00",
                            incurred_at=timezone.now(), external_id="old-1")
    from credits.services import usage_charge_check, usage_charges_ingest

    result = usage_charges_ingest(reseller=customer.reseller, rows=[usage_charge_check(
        customer_uin=customer.uin, amount="4.00", incurred_at=timezone.now(), external_id="old-1")])
    assert (result.created, result.replayed) == (0, 1)
    assert Customer.objects.get(pk=customer.pk).used == Decimal("4.00")


def test_every_partition_has_the_source_index_and_none_has_single_column_fk_indexes():
    """Migration 0010: (source, id) on every partition, those made by migrate and those made later,
    attached to the parent's index (valid once every partition has it); the customer and reseller
    are indexed only by the composite indexes that lead with them."""
    usage_partitions_ensure(now=timezone.now() + timedelta(days=31 * 6))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, array_agg(pg_get_indexdef(x.indexrelid) ORDER BY 1) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_index x ON x.indrelid = c.oid "
            "WHERE i.inhparent = 'credits_usagecharge'::regclass GROUP BY c.relname"
        )
        partitions = dict(cursor.fetchall())
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'usage_charge_source'::regclass")
        (valid,) = cursor.fetchone()
    assert valid and len(partitions) >= 7
    for name, definitions in partitions.items():
        assert any("(source, id)" in d for d in definitions), name
        assert not any(d.endswith("(customer_id)") or d.endswith("(reseller_id)") for d in definitions), name
        assert len(definitions) == 4, (name, definitions)  # key, customer time, external id, source
