"""A message in a customer's own Message Center, written as the inbox transport writes one: an alert,
its inbox delivery to the customer, and the message of that delivery."""

from django.utils import timezone

from notifications.models import Alert, Delivery, Message


def customer_message(customer, *, title: str | None = None, threshold: int = 75) -> Message:
    alert = Alert.objects.create(
        reseller=customer.reseller, customer=customer, kind=Alert.Kind.THRESHOLD, threshold=threshold,
        day=timezone.localdate(), credit=customer.credit, used=customer.used, available=customer.available,
    )
    delivery = Delivery.objects.create(alert=alert, recipient_kind="customer", recipient_key="customer",
                                       channel="inbox", status="sent", sent_at=timezone.now())
    return Message.objects.create(
        reseller=customer.reseller, customer=customer, for_customer=True, alert=alert, delivery=delivery,
        title=title or alert.sentence(for_customer=True), body="Credit 0.00 USD.",
    )
