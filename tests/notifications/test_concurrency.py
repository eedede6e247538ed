"""Sweeps and per-customer evaluations racing on the same customers (PostgreSQL, real threads,
each with its own connection): one alert per (customer, threshold, day), one delivery per
(alert, recipient, channel), and every delivery sent once however many workers try."""

import time
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


def test_sweep_batches_on_several_connections_alert_and_enqueue_like_one_after_another(settings, enqueued):
    from django.db import connection

    settings.ALERT_SWEEP_WORKERS = 3
    reseller = ResellerFactory(contact_email="ops@pool.example", contact_phone="+6580004444")
    for used in ["100.00", "95.00", "80.00", "50.00"] * 5:  # 15 of the 20 past a threshold
        CustomerFactory(reseller=reseller, credit=Decimal("100.00"), used=Decimal(used))

    def open_connections() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return cursor.fetchone()[0]

    before = open_connections()
    with enqueued() as sent:
        result = alerts_sweep(now=NOW, batch_size=2)
    assert (result.customers, result.batches) == (15, 8)
    assert sorted(Alert.objects.filter(covered=False).values_list("threshold", flat=True)) == sorted([75, 90, 100] * 5)
    assert result.alerts == Alert.objects.count() == 5 * (3 + 2 + 1)
    # contact e-mail + SMS, the customer's e-mail + SMS + inbox
    assert result.deliveries == Delivery.objects.count() == 5 * 15
    queued = [i for _, (ids,) in sent for i in ids]
    assert sorted(queued) == sorted(Delivery.objects.values_list("id", flat=True))
    # Each batch's thread closed its connection (its server process leaves pg_stat_activity a moment later).
    deadline = time.monotonic() + 10
    while open_connections() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_connections() == before

    with enqueued() as sent:
        again = alerts_sweep(now=NOW, batch_size=2)
    assert (again.alerts, again.deliveries, sent) == (0, 0, [])
