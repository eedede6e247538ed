from django.conf import settings


def unread(request):
    """The signed-in member's unread Message Center count, for the bell in the top bar: the number,
    and as the bell writes it ("99+" beyond UNREAD_SHOWN_MAX)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "member", None) is None:
        return {"unread_messages_count": 0, "unread_messages_text": "0", "bell_poll_seconds": settings.MESSAGE_BELL_POLL_SECONDS}
    from .selectors import unread_count, unread_text

    count = unread_count(user=user)
    return {
        "unread_messages_count": count,
        "unread_messages_text": unread_text(count),
        "bell_poll_seconds": settings.MESSAGE_BELL_POLL_SECONDS,
    }
