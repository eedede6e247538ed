"""Message Center: the "send" is a row in the member's (or the customer's) inbox, one per delivery."""

from . import Transport


class InboxTransport(Transport):
    """The message's title is the alert's sentence. A customer name near its 200-character limit can
    make the sentence longer than the title column: the title keeps what fits, and the name and UIN
    are still the message's customer."""

    channel = "inbox"

    def send(self, delivery) -> str:
        from notifications.models import Message

        title_max = Message._meta.get_field("title").max_length
        message, _ = Message.objects.get_or_create(
            delivery=delivery,
            defaults={
                "reseller_id": delivery.alert.reseller_id,
                "member_id": delivery.member_id,
                "customer_id": delivery.alert.customer_id,
                "for_customer": delivery.recipient_kind == "customer",
                "alert_id": delivery.alert_id,
                "title": self.context(delivery)["sentence"][:title_max],
                "body": self.render("notifications/inbox/alert.txt", delivery),
            },
        )
        return f"message:{message.pk}"
