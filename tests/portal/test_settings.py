"""The customer's notification settings (issue 12, DESIGN §3): its own channel switches, under the
reseller's, and its own credit notification, to the customer alone, at most once a day."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidValue
from credits.services import credit_allocate
from customers.models import Customer
from notifications.models import Alert, Delivery
from notifications.services import alerts_sweep, customer_alerts_evaluate, customer_notification_settings_update
from tests.factories import MemberFactory
from tests.onboarding import bound_customer
from tests.pages import body, client_for, set_used

pytestmark = pytest.mark.django_db


@pytest.fixture
def bound(reseller):
    MemberFactory(reseller=reseller)
    customer, user = bound_customer(reseller)
    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    return Customer.objects.select_related("balance").get(pk=customer.pk), user


def settings_post(**changes):
    data = {"wants_email": "on", "wants_sms": "on", "wants_inbox": "on", "credit_notification_percent": "40"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_settings_page_saves_switches_and_threshold(bound):
    customer, user = bound
    client = client_for(user)
    page = body(client.get("/portal/settings/"))
    assert "Credit notification" in page and "E-mail, SMS, Message Center" in page
    response = client.post("/portal/settings/", settings_post(wants_sms=None, credit_notification_percent="30"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.wants_email, customer.wants_sms, customer.wants_inbox, customer.credit_notification_percent) == (
        True, False, True, 30)
    assert "E-mail, Message Center" in body(client.get("/portal/settings/"))
    client.post("/portal/settings/", settings_post(credit_notification_percent=""))
    customer.refresh_from_db()
    assert customer.credit_notification_percent is None


@pytest.mark.parametrize("value", ["101", "-1", "abc", "12.5"])
def test_a_bad_threshold_is_refused_and_nothing_changes(bound, value):
    customer, user = bound
    response = client_for(user).post("/portal/settings/", settings_post(wants_email=None, credit_notification_percent=value))
    assert response.status_code == 200 and ("0 to 100" in body(response) or "whole number" in body(response))
    customer.refresh_from_db()
    assert customer.wants_email and customer.credit_notification_percent is None


def test_the_service_refuses_out_of_range(bound):
    customer, _ = bound
    for value in (101, -1, True, "50"):
        with pytest.raises(InvalidValue):
            customer_notification_settings_update(customer=customer, wants_email=True, wants_sms=True,
                                                  wants_inbox=True, credit_notification_percent=value)
    customer.refresh_from_db()
    assert customer.credit_notification_percent is None


def test_settings_page_walls(bound, reseller):
    from django.test import Client

    assert Client().get("/portal/settings/")["Location"].startswith("/portal/login/")
    assert client_for(MemberFactory(reseller=reseller).user).post("/portal/settings/", settings_post()).status_code == 404
    other_customer, other_user = bound_customer(reseller, email="other@client.example")
    client_for(other_user).post("/portal/settings/", settings_post(credit_notification_percent="90"))
    customer, _ = bound
    customer.refresh_from_db()
    assert customer.credit_notification_percent is None


def _customer_deliveries(alert):
    return {(d.recipient_kind, d.channel) for d in alert.deliveries.all()}


def test_credit_notification_tells_the_customer_alone_once_a_day(bound, reseller):
    customer, _ = bound
    customer_notification_settings_update(customer=customer, wants_email=True, wants_sms=False, wants_inbox=True,
                                          credit_notification_percent=50)
    set_used(customer, "40.00")  # 60 % available: above 50 %
    customer_alerts_evaluate(customer_id=customer.pk)
    assert not Alert.objects.filter(kind="credit").exists()
    set_used(customer, "55.00")  # 45 % available, below 50 %; under the 75 % default threshold
    customer_alerts_evaluate(customer_id=customer.pk)
    alert = Alert.objects.get(kind="credit")
    assert alert.threshold == 50 and "less than 50%" in alert.sentence(for_customer=True)
    assert _customer_deliveries(alert) == {("customer", "email"), ("customer", "inbox")}
    customer_alerts_evaluate(customer_id=customer.pk)
    alerts_sweep()
    assert Alert.objects.filter(kind="credit").count() == 1
    # The next day, still below: the sweep tells it again (a reminder), once.
    tomorrow = timezone.now() + timedelta(days=1)
    alerts_sweep(now=tomorrow)
    alerts_sweep(now=tomorrow)
    assert Alert.objects.filter(kind="credit").count() == 2
    assert Alert.objects.filter(kind="credit", reminder=True).count() == 1


def test_the_resellers_switches_apply_on_top(bound, reseller):
    customer, _ = bound
    customer_notification_settings_update(customer=customer, wants_email=True, wants_sms=True, wants_inbox=True,
                                          credit_notification_percent=50)
    Customer.objects.filter(pk=customer.pk).update(alert_email=False)
    set_used(customer, "60.00")
    customer_alerts_evaluate(customer_id=customer.pk)
    assert _customer_deliveries(Alert.objects.get(kind="credit")) == {("customer", "sms"), ("customer", "inbox")}
    reseller.customer_alerts_enabled = False
    reseller.save()
    Alert.objects.all().delete()
    customer_alerts_evaluate(customer_id=customer.pk)
    assert not Delivery.objects.filter(recipient_kind="customer").exists()


def test_the_customers_own_switch_off_stops_its_threshold_alerts(bound):
    customer, _ = bound
    customer_notification_settings_update(customer=customer, wants_email=False, wants_sms=False, wants_inbox=True,
                                          credit_notification_percent=None)
    set_used(customer, "80.00")
    customer_alerts_evaluate(customer_id=customer.pk)
    alert = Alert.objects.get(kind="threshold", threshold=75)
    kinds = _customer_deliveries(alert)
    assert ("customer", "inbox") in kinds and ("customer", "email") not in kinds and ("customer", "sms") not in kinds
    assert ("member", "inbox") in kinds


@pytest.mark.postgres
def test_the_database_refuses_a_threshold_out_of_range(bound):
    from django.db import IntegrityError, transaction

    customer, _ = bound
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(credit_notification_percent=101)
