"""Message Center: the "send" is a row in the member's (or the customer's) inbox, one per delivery."""

from . import Transport


class InboxTransport(Transport):
    """The message's title is the alert's sentence. A customer name near its 200-character limit can
    make the sentence longer than the title column: the title keeps what fits, and the name and UIN
    are still the message's customer."""

    channel = "inbox"

    def message(self, delivery):
        """The delivery's message, not yet saved."""
        from notifications.models import Message

        context = self.context(delivery)
        return Message(
            delivery=delivery,
            reseller_id=delivery.alert.reseller_id,
            member_id=delivery.member_id,
            customer_id=delivery.alert.customer_id,
            for_customer=delivery.recipient_kind == "customer",
            alert_id=delivery.alert_id,
            title=context["sentence"][: Message._meta.get_field("title").max_length],
            body=self.render("notifications/inbox/alert.txt", delivery, context),
        )

    def send(self, delivery) -> str:
        from notifications.models import Message

        message = self.message(delivery)
        fields = {field.attname: getattr(message, field.attname) for field in Message._meta.concrete_fields
                  if not field.primary_key and field.name != "delivery"}
        message, _ = Message.objects.get_or_create(delivery=delivery, defaults=fields)
        return f"message:{message.pk}"

    def send_many(self, deliveries) -> dict[int, str]:
        """The messages of many deliveries in one INSERT (a delivery that already has its message
        keeps it: one per delivery, the database's one-to-one key). {delivery id: reference}."""
        from notifications.models import Message

        Message.objects.bulk_create([self.message(delivery) for delivery in deliveries], ignore_conflicts=True)
        rows = Message.objects.filter(delivery_id__in=[delivery.pk for delivery in deliveries])
        return {delivery_id: f"message:{pk}" for delivery_id, pk in rows.values_list("delivery_id", "pk")}
