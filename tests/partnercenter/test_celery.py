"""Enqueueing after commit (partnercenter.celery.Task): a broker failure is logged, never raised
to the caller whose write is already committed. The broker's edge is mocked here (a task's
`delay` raising what kombu raises when Redis is unreachable); tests/partnercenter/test_broker_down.py
runs the application against a closed port."""

import logging
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from credits.models import AllocationRecord, Repayment, UsageCharge
from credits.services import credit_allocate, pool_grant, repayment_confirm, usage_charge_record
from customers.models import Customer
from notifications import tasks
from notifications.models import Alert, Delivery
from notifications.services import custom_warning_set, customer_alerts_evaluate
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory

pytestmark = pytest.mark.django_db

BROKER_DOWN = OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


@pytest.fixture
def shop():
    reseller = ResellerFactory(contact_email="ops@shop.example")
    pool_grant(reseller=reseller, amount="1000.00")
    member = MemberFactory(reseller=reseller, role="operator")
    customer = CustomerFactory(reseller=reseller)
    return type("Shop", (), {"reseller": reseller, "member": member, "customer": customer})


def failed_enqueues(caplog, task) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "partnercenter.celery" and r.levelno == logging.ERROR and task.name in r.getMessage()]


def test_a_broker_failure_after_commit_is_logged_and_the_next_callback_still_runs(caplog, django_capture_on_commit_callbacks):
    after = mock.Mock()
    with mock.patch.object(tasks.customer_evaluate, "delay", side_effect=BROKER_DOWN):
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            tasks.customer_evaluate.delay_on_commit(42)
            transaction.on_commit(after)
    assert len(callbacks) == 2
    after.assert_called_once_with()
    assert failed_enqueues(caplog, tasks.customer_evaluate) == [
        "Could not enqueue notifications.tasks.customer_evaluate(42,) after commit (the broker is unavailable); "
        "the periodic sweep will catch up."
    ]


def test_apply_async_on_commit_is_guarded_too(caplog, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.delivery_send, "apply_async", side_effect=BROKER_DOWN) as apply_async:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.delivery_send.apply_async_on_commit((7,), countdown=30)
    apply_async.assert_called_once_with((7,), None, countdown=30)
    assert failed_enqueues(caplog, tasks.delivery_send)


def test_a_programming_error_is_not_taken_for_a_broker_failure(django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.customer_evaluate, "delay", side_effect=TypeError("bad arguments")):
        with pytest.raises(TypeError), django_capture_on_commit_callbacks(execute=True):
            tasks.customer_evaluate.delay_on_commit(42)


def test_an_allocation_is_answered_as_done_when_its_evaluation_cannot_be_queued(shop, caplog, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.customer_evaluate, "delay", side_effect=BROKER_DOWN) as delay:
        with django_capture_on_commit_callbacks(execute=True):
            record = credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="1.00")
    delay.assert_called_once_with(shop.customer.pk)
    assert AllocationRecord.objects.get() == record
    assert Customer.objects.get(pk=shop.customer.pk).credit == Decimal("1.00")
    assert failed_enqueues(caplog, tasks.customer_evaluate)


def test_a_repayment_is_answered_as_done_when_its_evaluation_cannot_be_queued(shop, caplog, django_capture_on_commit_callbacks):
    credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="100.00")
    Customer.objects.filter(pk=shop.customer.pk).update(used=Decimal("80.00"))
    with mock.patch.object(tasks.customer_evaluate, "delay", side_effect=BROKER_DOWN):
        with django_capture_on_commit_callbacks(execute=True):
            repayment_confirm(reseller=shop.reseller, customer=shop.customer, amount="30.00",
                              actor=shop.member.user, idempotency_key="repay-1")
    assert Repayment.objects.count() == 1
    assert Customer.objects.get(pk=shop.customer.pk).used == Decimal("50.00")
    assert failed_enqueues(caplog, tasks.customer_evaluate)


def test_a_usage_charge_is_answered_as_done_when_its_evaluation_cannot_be_queued(shop, caplog, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.customer_evaluate, "delay", side_effect=BROKER_DOWN):
        with django_capture_on_commit_callbacks(execute=True):
            _, created = usage_charge_record(reseller=shop.reseller, customer_uin=shop.customer.uin, amount="2.50",
                                             incurred_at=timezone.now(), external_id="bill-1")
    assert created and UsageCharge.objects.count() == 1
    assert failed_enqueues(caplog, tasks.customer_evaluate)


def test_a_custom_warning_is_saved_when_its_evaluation_cannot_be_queued(shop, caplog, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.customer_evaluate, "delay", side_effect=BROKER_DOWN):
        with django_capture_on_commit_callbacks(execute=True):
            custom_warning_set(member=shop.member, customer=shop.customer, percent=30)
    assert Customer.objects.get(pk=shop.customer.pk).custom_warning_percent == 30
    assert failed_enqueues(caplog, tasks.customer_evaluate)


def test_an_evaluation_keeps_its_alert_and_deliveries_when_they_cannot_be_queued(shop, caplog, django_capture_on_commit_callbacks):
    Customer.objects.filter(pk=shop.customer.pk).update(credit=Decimal("100.00"), used=Decimal("95.00"))
    with mock.patch.object(tasks.deliveries_send, "delay", side_effect=BROKER_DOWN):
        with django_capture_on_commit_callbacks(execute=True):
            result = customer_alerts_evaluate(customer_id=shop.customer.pk)
    assert Alert.objects.filter(kind="threshold", covered=False).count() == 1
    # Still pending: deliveries_resend_stuck queues them once the broker is back.
    assert set(Delivery.objects.values_list("id", "status")) == {(i, "pending") for i in result.deliveries}
    assert failed_enqueues(caplog, tasks.deliveries_send)
