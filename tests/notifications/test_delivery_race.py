"""Evaluations that race over the same customers (PostgreSQL, one connection per thread): they meet
at the alert's unique key, so each alert gets its deliveries once, from the one transaction that
inserted it; the deliveries' INSERT has no ON CONFLICT and none of them fails on a duplicate."""

from decimal import Decimal

import pytest

from notifications.models import Alert, Delivery
from notifications.services import alerts_sweep, customer_alerts_evaluate, customers_alerts_evaluate
from tests.factories import CustomerFactory
from tests.threads import run_together

from .conftest import set_usage

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_racing_evaluations_and_a_sweep_write_each_alerts_deliveries_once(shop, settings):
    settings.ALERT_SWEEP_BATCH = 2
    customers = [shop.customer] + [
        CustomerFactory(reseller=shop.reseller, credit=Decimal("100.00"), email=f"c{n}@cust.example",
                        phone=f"+659000{n:04d}")
        for n in range(5)
    ]
    for n, customer in enumerate(customers):
        set_usage(customer, used=("80.00", "95.00", "120.00")[n % 3])
    ids = [c.pk for c in customers]
    targets = [lambda: alerts_sweep(reseller_ids=[shop.reseller.pk]), lambda: customers_alerts_evaluate(customer_ids=ids)]
    targets += [lambda pk=pk: customer_alerts_evaluate(customer_id=pk) for pk in ids]
    assert run_together(targets) == []

    # One alert per threshold reached, per customer; deliveries only for the highest (the others
    # are covered), each recipient once: the contact (e-mail, SMS), the admin (e-mail, Message
    # Center), the viewer (Message Center) and the customer (e-mail, SMS, Message Center).
    assert Alert.objects.filter(kind="threshold").count() == 1 + 2 + 3 + 1 + 2 + 3
    sent_for = Alert.objects.filter(kind="threshold", covered=False)
    assert sent_for.count() == len(customers)
    for alert in sent_for:
        rows = list(Delivery.objects.filter(alert=alert).values_list("recipient_key", "channel"))
        assert len(rows) == len(set(rows)) == 8, rows
    assert not Delivery.objects.filter(alert__covered=True).exists()
