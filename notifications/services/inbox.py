"""Message Center writes: a member marks its own messages read (the messages themselves are
written by the inbox transport, one per delivery)."""

from django.utils import timezone

from core.errors import NotFound
from customers.models import Member

from ..models import Message


def message_mark_read(*, member: Member, message_id: int) -> Message:
    """Mark one of the member's own messages read (another inbox's message is not found)."""
    message = Message.objects.filter(pk=message_id, member=member).first()
    if message is None:
        raise NotFound("This message is not in your Message Center.")
    if message.read_at is None:
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=timezone.now())
        message.refresh_from_db(fields=["read_at"])
    return message


def messages_mark_all_read(*, member: Member) -> int:
    return Message.objects.filter(member=member, read_at__isnull=True).update(read_at=timezone.now())
