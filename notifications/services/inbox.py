"""Message Center writes: a member marks its own messages read (the messages themselves are
written by the inbox transport, one per delivery)."""

from django.utils import timezone
from django.utils.translation import gettext

from core.errors import InvalidValue, NotFound
from customers.models import Customer, Member

from ..models import Message


def message_mark_read(*, member: Member, message_id: int) -> Message:
    """Mark one of the member's own messages read (another inbox's message is not found)."""
    message = Message.objects.filter(pk=message_id, member=member).first()
    if message is None:
        raise NotFound(gettext("This message is not in your Message Center."))
    if message.read_at is None:
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=timezone.now())
        message.refresh_from_db(fields=["read_at"])
    return message


def messages_mark_all_read(*, member: Member) -> int:
    return Message.objects.filter(member=member, read_at__isnull=True).update(read_at=timezone.now())


# A page shows at most 100 rows (console.tables.PAGE_SIZES): a selection is never larger.
SELECTION_MAX = 100


def messages_mark_read(*, member: Member, message_ids: list) -> int:
    """Mark the selected messages of the member's own inbox read; returns how many were unread.
    Ids of another inbox's messages change nothing (they are not the member's to mark). Refuses an
    empty selection, an id that is not a whole number, and more ids than a page holds; then
    nothing is marked."""
    if not message_ids:
        raise InvalidValue(gettext("Select at least one message to mark read."), field="ids")
    if len(message_ids) > SELECTION_MAX:
        raise InvalidValue(gettext("Select at most %(max)d messages at a time.") % {"max": SELECTION_MAX}, field="ids")
    ids = []
    for value in message_ids:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise InvalidValue(gettext("The selection was altered: a message is chosen by its number."), field="ids")
        ids.append(int(text))
    return Message.objects.filter(member=member, pk__in=ids, read_at__isnull=True).update(read_at=timezone.now())


def customer_message_mark_read(*, customer: Customer, message_id: int) -> Message:
    """Mark one of the customer's own messages read (a message of another inbox is not found)."""
    message = Message.objects.filter(pk=message_id, customer=customer, for_customer=True).first()
    if message is None:
        raise NotFound(gettext("This message is not in your Message Center."))
    if message.read_at is None:
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=timezone.now())
        message.refresh_from_db(fields=["read_at"])
    return message


def customer_messages_mark_all_read(*, customer: Customer) -> int:
    return Message.objects.filter(customer=customer, for_customer=True, read_at__isnull=True).update(read_at=timezone.now())
