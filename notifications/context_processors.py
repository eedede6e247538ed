def unread(request):
    """The signed-in member's unread Message Center count, for the bell in the top bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_messages_count": 0}
    from .selectors import unread_count

    return {"unread_messages_count": unread_count(user=user)}
