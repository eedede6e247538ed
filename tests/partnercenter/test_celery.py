"""Enqueueing after commit (partnercenter.celery.Task): a broker failure is logged, never raised
to the caller whose write is already committed. The broker's edge is mocked here (the `enqueued`
fixture's Task.apply_async raising what kombu raises when Redis is unreachable);
tests/partnercenter/test_broker_down.py runs the application against a closed port."""

import logging
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from credits.models import AllocationRecord, Repayment, UsageCharge
from credits.services import credit_allocate, pool_grant, repayment_confirm, usage_charge_record
from customers.models import Customer, CustomerBalance
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


def test_a_broker_failure_after_commit_is_logged_and_the_next_callback_still_runs(caplog, enqueued):
    after = mock.Mock()
    with enqueued(failing=BROKER_DOWN) as sent, transaction.atomic():
        tasks.customer_evaluate.delay_on_commit(42)
        transaction.on_commit(after)
    assert sent == [("notifications.tasks.customer_evaluate", (42,))]
    after.assert_called_once_with()
    assert failed_enqueues(caplog, tasks.customer_evaluate) == [
        "Could not enqueue notifications.tasks.customer_evaluate(42,) after commit (the broker is unavailable); "
        "the periodic sweep will catch up."
    ]


def test_apply_async_on_commit_is_guarded_too(caplog, enqueued):
    with enqueued(failing=BROKER_DOWN) as sent:
        tasks.delivery_send.apply_async_on_commit((7,), countdown=30)
    assert sent == [("notifications.tasks.delivery_send", (7,), {"countdown": 30})]
    assert failed_enqueues(caplog, tasks.delivery_send)


def test_a_programming_error_is_not_taken_for_a_broker_failure(enqueued):
    with pytest.raises(TypeError), enqueued(failing=TypeError("bad arguments")):
        tasks.customer_evaluate.delay_on_commit(42)


def test_an_allocation_is_answered_as_done_when_its_evaluation_cannot_be_queued(shop, caplog, enqueued):
    with enqueued(failing=BROKER_DOWN) as sent:
        record = credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="1.00")
    assert sent == [("notifications.tasks.customer_evaluate", (shop.customer.pk,))]
    assert AllocationRecord.objects.get() == record
    assert Customer.objects.get(pk=shop.customer.pk).credit == Decimal("1.00")
    assert failed_enqueues(caplog, tasks.customer_evaluate)


def test_a_repayment_is_answered_as_done_when_its_evaluation_cannot_be_queued(shop, caplog, enqueued):
    credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="100.00")
    CustomerBalance.objects.filter(pk=shop.customer.pk).update(used=Decimal("80.00"))
    with enqueued(failing=BROKER_DOWN):
        repayment_confirm(reseller=shop.reseller, customer=shop.customer, amount="30.00",
                          actor=shop.member.user, idempotency_key="repay-1")
    assert Repayment.objects.count() == 1
    assert Customer.objects.get(pk=shop.customer.pk).used == Decimal("50.00")
    assert failed_enqueues(caplog, tasks.customer_evaluate)


def test_a_usage_charge_is_answered_as_done_when_its_evaluation_cannot_be_queued(shop, caplog, enqueued):
    with enqueued(failing=BROKER_DOWN):
        _, created = usage_charge_record(reseller=shop.reseller, customer_uin=shop.customer.uin, amount="2.50",
                                         incurred_at=timezone.now(), external_id="bill-1")
    assert created and UsageCharge.objects.count() == 1
    assert failed_enqueues(caplog, tasks.customer_evaluate)


def test_a_custom_warning_is_saved_when_its_evaluation_cannot_be_queued(shop, caplog, enqueued):
    with enqueued(failing=BROKER_DOWN):
        custom_warning_set(member=shop.member, customer=shop.customer, percent=30)
    assert Customer.objects.get(pk=shop.customer.pk).custom_warning_percent == 30
    assert failed_enqueues(caplog, tasks.customer_evaluate)


def test_an_evaluation_keeps_its_alert_and_deliveries_when_they_cannot_be_queued(shop, caplog, enqueued):
    CustomerBalance.objects.filter(pk=shop.customer.pk).update(credit=Decimal("100.00"), used=Decimal("95.00"))
    with enqueued(failing=BROKER_DOWN) as sent:
        result = customer_alerts_evaluate(customer_id=shop.customer.pk)
    assert sent == [("notifications.tasks.deliveries_send", (result.deliveries,))]
    assert Alert.objects.filter(kind="threshold", covered=False).count() == 1
    # Still pending: deliveries_resend_stuck queues them once the broker is back.
    assert set(Delivery.objects.values_list("id", "status")) == {(i, "pending") for i in result.deliveries}
    assert failed_enqueues(caplog, tasks.deliveries_send)


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://...")
def test_deliveries_wait_in_their_own_queue_which_every_worker_consumes(settings):
    """A backlog of evaluations (a burst of usage) must not hold up deliveries: they are published
    to a queue of their own, and a worker started without -Q (the Procfile's) consumes both."""
    from partnercenter.celery import app

    default = settings.CELERY_TASK_DEFAULT_QUEUE
    deliveries = f"{default}-deliveries"
    assert set(app.amqp.queues) == {default, deliveries}
    with app.connection_for_write() as conn:
        app.control.purge(connection=conn)
        try:
            for _ in range(3):
                tasks.customer_evaluate.apply_async((1,), connection=conn)
            tasks.deliveries_send.apply_async(([1, 2],), connection=conn)
            tasks.delivery_send.apply_async((3,), connection=conn)
            redis = conn.default_channel.client
            assert (redis.llen(default), redis.llen(deliveries)) == (3, 2)
        finally:
            app.control.purge(connection=conn)

