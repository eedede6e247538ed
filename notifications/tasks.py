"""Thin tasks: take ids, let the service claim or re-read the rows, return early when done.

Delivery tasks acknowledge late (a worker killed mid-send leaves the message in the broker) and
are safe to run twice: the service claims each delivery with a conditional UPDATE. Only a
transient transport error is retried, with exponential backoff and a cap (DeliveryRetry)."""

from celery import shared_task
from django.conf import settings

from . import services
from .transports.email import batch_transport


@shared_task(ignore_result=True)
def customer_evaluate(customer_id: int) -> None:
    services.customer_alerts_evaluate(customer_id=customer_id)


@shared_task(ignore_result=True)
def customers_evaluate(customer_ids: list[int]) -> None:
    """A usage batch's customers, enqueued once per batch."""
    services.customers_alerts_evaluate(customer_ids=customer_ids)


@shared_task(ignore_result=True)
def customer_bound_notice(customer_id: int) -> None:
    """Enqueued by name by customers.services.application_approve (customers sits below notifications)."""
    services.customer_bound_notice(customer_id=customer_id)


@shared_task(bind=True, ignore_result=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=settings.DELIVERY_MAX_ATTEMPTS)
def delivery_send(self, delivery_id: int) -> str:
    try:
        return services.delivery_attempt(delivery_id=delivery_id)
    except services.DeliveryRetry as retry:
        raise self.retry(countdown=retry.countdown, exc=retry)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def deliveries_send(delivery_ids: list[int]) -> dict:
    """A chunk of the sweep's deliveries, e-mails over one SMTP connection. A transient failure
    becomes its own delivery_send task with the backoff countdown."""
    with batch_transport() as transport:
        outcomes, retries = services.deliveries_attempt(delivery_ids=delivery_ids, transport=transport)
    for delivery_id, countdown in retries:
        delivery_send.apply_async((delivery_id,), countdown=countdown)
    return outcomes


@shared_task(ignore_result=True)
def alerts_sweep() -> dict:
    result = services.alerts_sweep()
    return {
        "customers": result.customers, "alerts": result.alerts, "deliveries": result.deliveries,
        "rearmed": result.rearmed,
    }


@shared_task(ignore_result=True)
def deliveries_resend_stuck() -> int:
    ids = services.deliveries_stuck()
    for start in range(0, len(ids), services.ENQUEUE_CHUNK):
        deliveries_send.delay(ids[start : start + services.ENQUEUE_CHUNK])
    return len(ids)


@shared_task(ignore_result=True)
def suspension_deadlines() -> dict:
    from .services.status import suspension_deadlines_run

    return suspension_deadlines_run()


@shared_task(ignore_result=True)
def overdue_sweep() -> int:
    from .services.status import overdue_sweep as sweep

    return sweep()
