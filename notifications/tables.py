"""The Message Center's table: one compact row per message, newest first, with the console's pager."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _

from core.timezones import format_time

from .models import Message

# The form (templates/notifications/message_list.html) the row checkboxes belong to.
SELECTION_FORM = "message-selection"


class MessageTable(tables.Table):
    select = tables.Column(_("Select"), accessor="pk", orderable=False, attrs={"th": {"class": "cell-select"}, "td": {"class": "cell-select"}})
    created_at = tables.Column(_("Time"), orderable=False, attrs={"td": {"class": "cell-time"}})
    customer = tables.Column(_("Customer"), orderable=False, attrs={"td": {"class": "cell-name"}})
    title = tables.Column(_("Message"), orderable=False, attrs={"td": {"class": "cell-message"}})
    state = tables.Column(_("Status"), accessor="pk", orderable=False)

    class Meta:
        model = Message
        fields = ()
        attrs = {"class": "table table-compact", "id": "messages"}
        row_attrs = {
            "id": lambda record: f"message-{record.pk}",
            "class": lambda record: "nc-unread" if record.read_at is None else "",
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_text", gettext("No messages match these filters."))
        super().__init__(*args, **kwargs)

    def render_select(self, record):
        return format_html('<input type="checkbox" name="ids" value="{}" form="{}" aria-label="{}">', record.pk,
                           SELECTION_FORM, gettext("Select: %(title)s") % {"title": record.title})

    def render_created_at(self, value):
        return format_time(value)

    def render_customer(self, record):
        customer = record.customer
        # The customer page (partnercenter's, by its URL name: no import of a higher layer).
        return format_html('<a href="{}">{}</a> <span class="muted mono">{}</span>',
                           reverse("customer-page", args=[customer.uin]), customer.name, customer.uin)

    def render_title(self, record):
        return format_html('<a href="{}" title="{}">{}</a>', reverse("notifications:customer_alerts", args=[record.customer.uin]),
                           record.body, record.title)

    def render_state(self, record):
        if record.read_at is None:
            return format_html('<strong class="nc-state-unread">{}</strong>', gettext("Unread"))
        return format_html('<span class="muted">{}</span>', gettext("Read"))
