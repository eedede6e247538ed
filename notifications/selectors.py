"""Reads for the Message Center, alert history and settings, each scoped to the member or reseller."""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext

from core.prepared import PreparedValue
from customers.models import Customer, Member, Reseller

from .models import Alert, Delivery, Message

# The bell counts unread messages up to this many and then says "99+": a member of a reseller with
# 100,000 customers can have a million messages, and every page shows the bell.
UNREAD_SHOWN_MAX = 99


def _unread_count(*, user_id: int, using: str = "default") -> int:
    return Message.objects.using(using).filter(member__user=user_id, read_at__isnull=True)[: UNREAD_SHOWN_MAX + 1].count()


# Every console page shows the bell: its count's statement is compiled once per connection (core.prepared).
_UNREAD_COUNT = PreparedValue(_unread_count, user_id=-1)


def unread_count(*, user) -> int:
    """The member's unread messages, counted up to UNREAD_SHOWN_MAX + 1 (the partial index of
    unread messages serves it)."""
    return _UNREAD_COUNT.get(user_id=user.pk)


def unread_text(count: int) -> str:
    """The bell's count as written: "99+" beyond UNREAD_SHOWN_MAX."""
    return f"{UNREAD_SHOWN_MAX}+" if count > UNREAD_SHOWN_MAX else str(count)


def customer_unread_count(*, customer: Customer) -> int:
    """The customer's own unread Message Center messages, counted like unread_count (partial index
    message_customer_unread)."""
    return Message.objects.filter(customer=customer, for_customer=True, read_at__isnull=True)[: UNREAD_SHOWN_MAX + 1].count()


def customer_inbox(*, customer: Customer) -> QuerySet[Message]:
    """The customer's own Message Center, newest first: the messages addressed to it, never the
    reseller's messages about it."""
    return Message.objects.filter(customer=customer, for_customer=True).only(
        "id", "title", "body", "created_at", "read_at"
    ).order_by("-created_at", "-id")


def inbox(*, member: Member, unread_only: bool = False) -> QuerySet[Message]:
    messages = Message.objects.filter(member=member)
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    return messages.select_related("customer").only(
        "id", "title", "body", "created_at", "read_at", "customer__uin", "customer__name"
    ).order_by("-created_at", "-id")


# The bell's menu lists this many of the newest messages.
LATEST_SHOWN = 5


def latest_messages(*, member: Member) -> list[Message]:
    """The newest messages of the member's inbox, read or not, for the bell's menu."""
    return list(inbox(member=member)[:LATEST_SHOWN])


def customer_alert_history(*, reseller: Reseller, customer: Customer) -> QuerySet[Alert]:
    """The customer's alerts, newest first, each with its deliveries (covered ones have none)."""
    deliveries = Delivery.objects.select_related("member__user").order_by("recipient_kind", "recipient_key", "channel")
    return (
        Alert.objects.filter(reseller=reseller, customer=customer)
        .select_related("customer", "status_event")
        .prefetch_related(Prefetch("deliveries", queryset=deliveries))
        .order_by("-created_at", "-id")
    )


def members_with_channels(*, reseller: Reseller) -> QuerySet[Member]:
    return Member.objects.filter(reseller=reseller).select_related("user").order_by("user__username")


def customer_alert_channels(*, reseller, customer) -> list[str]:
    """The channels a usage alert reaches this customer by: the customer's own choice (its portal),
    the reseller's switches for it, the reseller-wide ones and an address to send to must all allow
    it (the same rules as the delivery SQL)."""
    if not reseller.customer_alerts_enabled:
        return []
    channels = []
    if customer.alert_email and customer.wants_email and reseller.customer_alert_email and customer.email:
        channels.append(gettext("E-mail"))
    if customer.alert_sms and customer.wants_sms and reseller.customer_alert_sms and customer.phone:
        channels.append(gettext("SMS"))
    if customer.alert_inbox and customer.wants_inbox and reseller.customer_alert_inbox:
        channels.append(gettext("Message Center"))
    return channels
