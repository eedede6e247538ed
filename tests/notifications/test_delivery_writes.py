"""What writing a sweep batch's deliveries costs: the statement reads each alert's customer once for
its three channels, and a member's deliveries are indexed only where there is a member (most
deliveries go to a contact or a customer)."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from notifications.models import Alert, Delivery
from notifications.services import customer_alerts_evaluate, customer_bound_notice, outbox
from notifications.services.sql import ids_param, in_ids
from notifications.services.status import customer_freeze
from tests.factories import CustomerFactory

from .conftest import set_usage

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def explain(sql: str, params=None) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: ask what it can do with many
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_deliveries_statement_reads_each_customer_once_by_its_key(shop):
    set_usage(shop.customer, used="91.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    alert_ids = list(Alert.objects.values_list("id", flat=True))
    plan = explain(outbox._DELIVERIES.format(ids=in_ids("al.id")),
                   {"now": timezone.now(), "ids": ids_param(alert_ids)})
    customer_scans = [line for line in plan.splitlines() if "Scan" in line and "on customers_customer" in line]
    assert len(customer_scans) == 1, plan
    # A lookup per alert, never a walk of the customer table from its first row (a merge join).
    assert "Index Cond: (id = al.customer_id)" in plan, plan
    assert "Merge Join" not in plan, plan


def test_the_statement_still_gives_every_recipient_its_delivery(shop):
    set_usage(shop.customer, used="91.00")
    result = customer_alerts_evaluate(customer_id=shop.customer.pk)
    rows = set(Delivery.objects.filter(pk__in=result.deliveries).values_list("recipient_key", "channel", "address"))
    assert rows == {
        ("contact", "email", "ops@shop.example"), ("contact", "sms", "+6580001111"),
        (f"member:{shop.admin.pk}", "email", "admin@shop.example"),
        (f"member:{shop.admin.pk}", "inbox", ""), (f"member:{shop.viewer.pk}", "inbox", ""),
        ("customer", "email", "bill@cust.example"), ("customer", "sms", "+6590002222"), ("customer", "inbox", ""),
    }


def test_a_members_deliveries_are_indexed_where_there_is_a_member(shop):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'notifications_delivery' AND indexdef LIKE '%%(member_id)%%'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert len(definitions) == 1 and definitions[0].endswith("WHERE (member_id IS NOT NULL)"), definitions
    # Deleting a member deletes its deliveries: Django's collector finds them through that index.
    sql, params = Delivery.objects.filter(member=shop.admin).values("id").query.sql_with_params()
    assert "delivery_member" in explain(sql, params)


def test_deliveries_are_written_with_their_alert_and_deleted_with_it(shop, monkeypatch):
    """A delivery's alert is not checked by a database constraint (notifications migration 0011):
    every delivery is written by the transaction that inserts its alert, and deleting an alert (or
    its customer) through Django deletes its deliveries with it, leaving none pointing nowhere."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT confrelid::regclass::text FROM pg_constraint"
                       " WHERE conrelid = 'notifications_delivery'::regclass AND contype = 'f'")
        assert [row[0] for row in cursor.fetchall()] == ["customers_member"]

    # Every alert handed to deliveries_create is one the same evaluation has just inserted.
    create = outbox.deliveries_create
    handed = []

    def watched(cursor, *, alert_ids, now):
        handed.extend(alert_ids)
        return create(cursor, alert_ids=alert_ids, now=now)

    from notifications.services import evaluation

    monkeypatch.setattr(evaluation, "deliveries_create", watched)
    set_usage(shop.customer, used="95.00")
    before = set(Alert.objects.values_list("id", flat=True))
    result = customer_alerts_evaluate(customer_id=shop.customer.pk)
    assert result.deliveries and handed and before.isdisjoint(handed)
    assert set(Delivery.objects.filter(pk__in=result.deliveries).values_list("alert_id", flat=True)) <= set(handed)

    alert = Alert.objects.get(pk=Delivery.objects.get(pk=result.deliveries[0]).alert_id)
    alert.delete()
    assert not Delivery.objects.filter(alert_id=alert.pk).exists()
    shop.customer.delete()
    assert not Delivery.objects.exclude(alert_id__in=Alert.objects.values("id")).exists()


def test_every_alert_carries_its_customers_reseller_without_a_database_constraint(shop):
    """Migration 0012 dropped the alerts' foreign key to the customer: what it checked holds by how
    alerts are written (each path reads the customer or its balance and copies the reseller), and
    Django still deletes a customer's alerts with it."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "notifications_alert")
    assert [info["columns"] for info in constraints.values() if info["foreign_key"]] == [["status_event_id"]]

    set_usage(shop.customer, used="91.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)  # threshold alerts
    customer_freeze(reseller=shop.reseller, customer=shop.customer)  # a status alert
    customer_bound_notice(customer_id=shop.customer.pk)  # a notice
    kinds = set(Alert.objects.values_list("kind", flat=True))
    assert {"threshold", "status", "bound"} <= kinds, kinds
    assert set(Alert.objects.values_list("customer_id", "reseller_id")) == {(shop.customer.pk, shop.reseller.pk)}

    # A customer with alerts (and no status events, which are immutable) is deleted with them.
    other = CustomerFactory(reseller=shop.reseller, credit=Decimal("100.00"))
    set_usage(other, used="99.00")
    alerted = customer_alerts_evaluate(customer_id=other.pk)
    assert alerted.alerts and alerted.deliveries
    Customer.objects.filter(pk=other.pk).delete()
    assert not Alert.objects.filter(customer_id=other.pk).exists()
    assert not Delivery.objects.filter(pk__in=alerted.deliveries).exists()
