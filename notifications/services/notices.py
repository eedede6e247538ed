"""Notices that are not usage thresholds: the reseller's Message Center hears of a new customer."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.models import Customer

from ..models import Alert
from .evaluation import reseller_day
from .outbox import deliveries_create, deliveries_enqueue


def customer_bound_notice(*, customer_id: int) -> Alert | None:
    """Tell the reseller's members (Message Center, each that has it on) that the customer was
    approved and bound. Once per customer: the alert's (customer, kind, threshold, day) key, and a
    notice already written is not written again (a repeated task changes nothing)."""
    customer = Customer.objects.select_related("reseller", "balance").filter(pk=customer_id).first()
    if customer is None:
        return None
    if Alert.objects.filter(customer=customer, kind=Alert.Kind.BOUND).exists():
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                reseller=customer.reseller, customer=customer, kind=Alert.Kind.BOUND, threshold=0,
                day=reseller_day(customer.reseller.time_zone, now), credit=customer.credit, used=customer.used,
                available=customer.available, created_at=now,
            )
            with connection.cursor() as cursor:
                delivery_ids = deliveries_create(cursor, alert_ids=[alert.pk], now=now)
            deliveries_enqueue(delivery_ids, batch=False)
    except IntegrityError:
        return None
    return alert
