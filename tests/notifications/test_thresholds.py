from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from customers.models import Customer
from notifications.models import Alert, Delivery
from notifications.services import alerts_sweep, customer_alerts_evaluate
from tests.factories import CustomerFactory

from .conftest import set_usage

pytestmark = pytest.mark.django_db
NOON_UTC8 = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai


def evaluate(customer, now=NOON_UTC8):
    return customer_alerts_evaluate(customer_id=customer.pk, now=now)


def sent_alerts(customer):
    return list(Alert.objects.filter(customer=customer, covered=False).values_list("kind", "threshold"))


@pytest.mark.parametrize(
    "used, expected",
    [
        ("74.99", []),
        ("75.00", [("threshold", 75)]),
        ("89.99", [("threshold", 75)]),
        ("90.00", [("threshold", 90)]),
        ("99.99", [("threshold", 90)]),
        ("100.00", [("threshold", 100)]),
        ("130.00", [("threshold", 100)]),  # negative available
    ],
)
def test_threshold_edges(shop, used, expected):
    set_usage(shop.customer, used=used)
    evaluate(shop.customer)
    assert sent_alerts(shop.customer) == expected


def test_credit_zero_with_usage_counts_as_over_100(shop):
    set_usage(shop.customer, credit="0.00", used="0.01")
    evaluate(shop.customer)
    assert sent_alerts(shop.customer) == [("threshold", 100)]


def test_credit_zero_without_usage_alerts_nothing(shop):
    set_usage(shop.customer, credit="0.00", used="0.00")
    evaluate(shop.customer)
    assert Alert.objects.count() == 0


def test_jump_across_thresholds_sends_only_the_highest_and_covers_the_rest(shop):
    set_usage(shop.customer, used="100.00")
    result = evaluate(shop.customer)
    rows = sorted(Alert.objects.filter(customer=shop.customer).values_list("threshold", "covered"))
    assert rows == [(75, True), (90, True), (100, False)]
    covered = Alert.objects.filter(customer=shop.customer, covered=True)
    assert not Delivery.objects.filter(alert__in=covered).exists()
    assert result.alerts == 3 and len(result.deliveries) == Delivery.objects.count() > 0


def test_step_by_step_crossings_send_each_threshold_once_a_day(shop):
    set_usage(shop.customer, used="76.00")
    evaluate(shop.customer)
    set_usage(shop.customer, used="91.00")
    evaluate(shop.customer)
    evaluate(shop.customer)
    assert sorted(sent_alerts(shop.customer)) == [("threshold", 75), ("threshold", 90)]


def test_deliveries_go_to_every_recipient_on_their_channels(shop):
    set_usage(shop.customer, used="90.00")
    evaluate(shop.customer)
    got = sorted(Delivery.objects.values_list("recipient_key", "channel", "address"))
    admin, viewer = shop.admin.pk, shop.viewer.pk
    assert got == sorted([
        ("contact", "email", "ops@shop.example"),
        ("contact", "sms", "+6580001111"),
        (f"member:{admin}", "email", "admin@shop.example"),
        (f"member:{admin}", "inbox", ""),
        (f"member:{viewer}", "inbox", ""),
        ("customer", "email", "bill@cust.example"),
        ("customer", "sms", "+6590002222"),
        ("customer", "inbox", ""),
    ])
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}


def test_switched_off_channels_and_customer_alerts_get_nothing(shop):
    r = shop.reseller
    r.customer_alerts_enabled = False
    r.contact_alert_sms = False
    r.save()
    type(shop.admin).objects.filter(pk=shop.admin.pk).update(alert_email=False, alert_inbox=False)
    set_usage(shop.customer, used="95.00")
    evaluate(shop.customer)
    got = sorted(Delivery.objects.values_list("recipient_key", "channel"))
    assert got == [("contact", "email"), (f"member:{shop.viewer.pk}", "inbox")]


@pytest.mark.parametrize(
    "switches, channels",
    [
        ({"alert_email": False}, ["inbox", "sms"]),
        ({"alert_sms": False, "alert_inbox": False}, ["email"]),
        ({"alert_email": False, "alert_sms": False, "alert_inbox": False}, []),
    ],
)
def test_the_customers_own_switched_off_channels_get_nothing(shop, switches, channels):
    Customer.objects.filter(pk=shop.customer.pk).update(**switches)
    set_usage(shop.customer, used="95.00")
    evaluate(shop.customer)
    got = sorted(Delivery.objects.filter(recipient_key="customer").values_list("channel", flat=True))
    assert got == channels
    # The reseller's own recipients are not affected by the customer's switches.
    assert Delivery.objects.filter(recipient_key="contact").count() == 2


@pytest.mark.parametrize(
    "percent, credit, used, fires",
    [
        (0, "100.00", "100.00", False),  # available 0 is not below 0
        (0, "100.00", "100.01", True),  # negative available
        (100, "100.00", "0.00", False),  # all of it available
        (100, "100.00", "0.01", True),
        (30, "100.00", "70.00", False),  # exactly 30 % left
        (30, "100.00", "70.01", True),
        (50, "0.00", "0.00", False),
        (50, "0.00", "1.00", True),
    ],
)
def test_custom_warning_edges(shop, percent, credit, used, fires):
    type(shop.customer).objects.filter(pk=shop.customer.pk).update(custom_warning_percent=percent)
    set_usage(shop.customer, credit=credit, used=used)
    evaluate(shop.customer)
    custom = Alert.objects.filter(customer=shop.customer, kind="custom")
    assert custom.exists() is fires
    if fires:
        alert = custom.get()
        assert alert.threshold == percent
        # to the reseller only
        assert set(alert.deliveries.values_list("recipient_kind", flat=True)) == {"contact", "member"}


def test_database_refuses_a_second_alert_for_the_same_day(shop):
    set_usage(shop.customer, used="90.00")
    evaluate(shop.customer)
    alert = Alert.objects.get(threshold=90)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(reseller=alert.reseller, customer=alert.customer, kind="threshold", threshold=90,
                             day=alert.day, credit=0, used=0, available=0)
    delivery = alert.deliveries.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(alert=alert,
                                recipient_kind=delivery.recipient_kind, recipient_key=delivery.recipient_key,
                                channel=delivery.channel)


def test_sweep_finds_the_same_crossings_in_batches(shop, enqueued):
    others = [CustomerFactory(reseller=shop.reseller, credit=Decimal("100.00")) for _ in range(5)]
    for customer, used in zip([shop.customer, *others], ["10.00", "75.00", "90.00", "100.00", "50.00", "74.99"]):
        set_usage(customer, used=used)
    with enqueued() as sent:
        result = alerts_sweep(now=NOON_UTC8, batch_size=2)
    assert result.customers == 3 and result.batches == 2
    assert sorted(Alert.objects.filter(covered=False).values_list("threshold", flat=True)) == [75, 90, 100]
    assert {task for task, _ in sent} == {"notifications.tasks.deliveries_send"}
    queued = [i for _, (ids,) in sent for i in ids]
    assert sorted(queued) == sorted(Delivery.objects.values_list("id", flat=True))
    # a second sweep the same day adds nothing
    with enqueued() as sent:
        again = alerts_sweep(now=NOON_UTC8, batch_size=2)
    assert again.alerts == 0 and sent == []


def test_alert_snapshot_and_title(shop):
    set_usage(shop.customer, used="91.50")
    evaluate(shop.customer)
    alert = Alert.objects.get(covered=False)
    assert (alert.credit, alert.used, alert.available) == (Decimal("100.00"), Decimal("91.50"), Decimal("8.50"))
    assert str(shop.customer.uin) in alert.title and "90%" in alert.title and shop.customer.name in alert.title


def test_evaluation_enqueues_its_deliveries_after_commit_in_one_task(shop, enqueued):
    set_usage(shop.customer, used="90.00")
    with enqueued() as sent:
        customer_alerts_evaluate(customer_id=shop.customer.pk, now=NOON_UTC8)
        assert sent == []  # nothing is sent before the alert and its outbox commit
    [(task, (delivery_ids,))] = sent
    assert task == "notifications.tasks.deliveries_send"
    assert sorted(delivery_ids) == sorted(Delivery.objects.values_list("id", flat=True))
