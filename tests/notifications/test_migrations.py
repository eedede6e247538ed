"""Migrations that change data are tried on the data they change."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from notifications.models import Delivery
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)


def test_delivery_once_per_address_drops_the_duplicates_the_old_rule_wrote():
    before = [("notifications", "0002_alert_open")]
    migrate(before)
    # The alert and delivery as they were then (a later migration added a column).
    old = MigrationExecutor(connection).loader.project_state(before).apps
    OldAlert, OldDelivery = old.get_model("notifications", "Alert"), old.get_model("notifications", "Delivery")  # noqa: N806
    try:
        reseller = ResellerFactory(contact_email="ops@shop.example", contact_phone="+6580001111")
        member = MemberFactory(reseller=reseller, user=UserFactory(email="OPS@shop.example"))
        customer = CustomerFactory(reseller=reseller)
        now = timezone.now()
        alert = OldAlert.objects.create(reseller_id=reseller.pk, customer_id=customer.pk, kind="threshold", threshold=90,
                                     day=now.date(), credit=100, used=91, available=9)

        def delivery(kind, key, channel, address, member=None):
            return OldDelivery.objects.create(alert=alert, recipient_kind=kind, recipient_key=key,
                                              member_id=member.pk if member else None,
                                           channel=channel, address=address)

        contact_email = delivery("contact", "contact", "email", "ops@shop.example")
        delivery("member", f"member:{member.pk}", "email", "OPS@shop.example", member)
        delivery("customer", "customer", "email", " ops@shop.example")
        contact_sms = delivery("contact", "contact", "sms", "+6580001111")
        delivery("customer", "customer", "sms", "+6580001111 ")
        member_inbox = delivery("member", f"member:{member.pk}", "inbox", "", member)
        customer_inbox = delivery("customer", "customer", "inbox", "")
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert set(Delivery.objects.values_list("id", flat=True)) == {
        contact_email.pk, contact_sms.pk, member_inbox.pk, customer_inbox.pk
    }


@pytest.mark.postgres
def test_an_alerts_customer_was_checked_by_one_key_and_now_by_construction():
    """Migration 0009: one foreign key on (customer, reseller) to the customer's (id, reseller), in
    place of one per column (checked at commit); backwards, the two again. Migration 0012: none (the
    check locked and so wrote every alerted customer's row); backwards, 0009's again."""
    from django.db import IntegrityError, transaction

    from notifications.models import Alert

    def foreign_keys():
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, "notifications_alert")
        return sorted(tuple(info["columns"]) for info in constraints.values() if info["foreign_key"])

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    assert foreign_keys() == [("status_event_id",)]
    customer, other = CustomerFactory(), ResellerFactory()
    fields = {"kind": "threshold", "threshold": 90, "day": timezone.localdate(), "credit": 100, "used": 91,
              "available": 9}
    try:
        migrate([("notifications", "0011_delivery_alert_checked_by_construction")])
        assert foreign_keys() == [("customer_id", "reseller_id"), ("status_event_id",)]
        Alert.objects.create(reseller=customer.reseller, customer=customer, **fields)
        for reseller_id, customer_id in ((other.pk, customer.pk), (customer.reseller_id, customer.pk + 1000)):
            with pytest.raises(IntegrityError, match="alert_customer_of_reseller"), transaction.atomic():
                Alert.objects.create(reseller_id=reseller_id, customer_id=customer_id, threshold=75,
                                     **{k: v for k, v in fields.items() if k != "threshold"})
        assert Alert.objects.count() == 1
        Alert.objects.all().delete()
        migrate([("notifications", "0008_alert_customer_time")])
        assert foreign_keys() == [("customer_id",), ("reseller_id",), ("status_event_id",)]
    finally:
        migrate(leaves)
    assert foreign_keys() == [("status_event_id",)]
