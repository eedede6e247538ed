"""Sweeps and per-customer evaluations racing on the same customers (PostgreSQL, real threads,
each with its own connection): one alert per (customer, threshold, day), one delivery per
(alert, recipient, channel), and every delivery sent once however many workers try."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db.models import Count

from notifications.models import Alert, Delivery
from notifications.services import alerts_sweep, customer_alerts_evaluate, delivery_attempt
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory, UserFactory
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)


def test_racing_sweeps_and_evaluations_alert_once_and_send_once():
    reseller = ResellerFactory(contact_email="ops@race.example", contact_phone="+6580003333")
    MemberFactory(reseller=reseller, role="admin", user=UserFactory(username="race-admin", email="a@race.example"))
    customers = [
        CustomerFactory(reseller=reseller, credit=Decimal("100.00"), used=Decimal(used))
        for used in ["100.00", "95.00", "80.00", "120.00"] * 5
    ]
    targets = [lambda: alerts_sweep(now=NOW, batch_size=7) for _ in range(3)]
    for customer in customers[:6]:
        targets += [lambda pk=customer.pk: customer_alerts_evaluate(customer_id=pk, now=NOW)] * 2
    errors = run_together(targets)
    assert errors == []

    per_key = Alert.objects.values("customer", "kind", "threshold", "day").annotate(n=Count("id"))
    assert {row["n"] for row in per_key} == {1}
    sent = Alert.objects.filter(covered=False)
    assert sent.count() == len(customers)  # each customer's highest threshold, once
    assert sorted(sent.values_list("threshold", flat=True)) == sorted([100, 90, 75, 100] * 5)
    per_delivery = Delivery.objects.values("alert", "recipient_key", "channel").annotate(n=Count("id"))
    assert {row["n"] for row in per_delivery} == {1}
    # contact e-mail + SMS, the admin's e-mail + inbox, the customer's e-mail + SMS + inbox
    assert Delivery.objects.count() == 7 * len(customers)

    ids = list(Delivery.objects.filter(channel="email").values_list("id", flat=True))
    mail.outbox = []
    errors = run_together([lambda: [delivery_attempt(delivery_id=i) for i in ids] for _ in range(4)])
    assert errors == []
    assert len(mail.outbox) == len(ids)
    assert set(Delivery.objects.filter(channel="email").values_list("status", "attempts")) == {("sent", 1)}
