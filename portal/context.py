"""What every portal page shows: the customer and its Message Center bell."""

from notifications import selectors as notification_selectors


def portal_context(request, **extra) -> dict:
    count = notification_selectors.customer_unread_count(customer=request.customer) if request.customer else 0
    return {"customer": request.customer, "unread_count": count,
            "unread_text": notification_selectors.unread_text(count), **extra}
