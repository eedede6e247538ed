"""Message Center: the "send" is a row in the member's (or the customer's) inbox, one per delivery."""

from . import Transport


class InboxTransport(Transport):
    channel = "inbox"

    def send(self, delivery) -> str:
        from notifications.models import Message

        message, _ = Message.objects.get_or_create(
            delivery=delivery,
            defaults={
                "reseller_id": delivery.alert.reseller_id,
                "member_id": delivery.member_id,
                "customer_id": delivery.alert.customer_id,
                "for_customer": delivery.recipient_kind == "customer",
                "alert_id": delivery.alert_id,
                "title": delivery.alert.title[:255],
                "body": self.render("notifications/inbox/alert.txt", delivery),
            },
        )
        return f"message:{message.pk}"
