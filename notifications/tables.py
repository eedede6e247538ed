"""The Message Center's table: one compact row per message, newest first, with the console's pager. It
writes its rows itself, as My Customers and Allocation Records do (console/tables.py says why)."""

from functools import cached_property
from html import escape

import django_tables2 as tables
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy as _

from console.tables import ConsoleTable, RowLinks
from core.timezones import format_time

from .models import Message

# The form (templates/notifications/message_list.html) the row checkboxes belong to.
SELECTION_FORM = "message-selection"


class MessageTable(ConsoleTable):
    select = tables.Column(_("Select"), accessor="pk", orderable=False, attrs={"th": {"class": "cell-select"}, "td": {"class": "cell-select"}})
    created_at = tables.Column(_("Time"), orderable=False, attrs={"td": {"class": "cell-time"}})
    customer = tables.Column(_("Customer"), orderable=False, attrs={"td": {"class": "cell-name"}})
    title = tables.Column(_("Message"), orderable=False, attrs={"td": {"class": "cell-message"}})
    state = tables.Column(_("Status"), accessor="pk", orderable=False)

    renders_rows = True

    class Meta:
        model = Message
        fields = ()
        attrs = {"class": "table table-compact", "id": "messages"}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_text", gettext("No messages match these filters."))
        super().__init__(*args, **kwargs)

    @cached_property
    def _row_parts(self) -> dict:
        """What every row repeats: the links' routes (the customer page is partnercenter's, named by its URL
        name: no import of a higher layer) and the translated texts."""
        return {
            "links": RowLinks("customer-page", "notifications:customer_alerts"),
            "select": gettext("Select: %(title)s"),
            "unread": f'<strong class="nc-state-unread">{escape(gettext("Unread"))}</strong>',
            "read": f'<span class="muted">{escape(gettext("Read"))}</span>',
        }

    def render_row(self, record: Message) -> str:
        parts = self._row_parts
        links, customer, unread = parts["links"], record.customer, record.read_at is None
        title = escape(record.title)
        row_class = ' class="nc-unread"' if unread else ""
        return mark_safe(
            f'<tr id="message-{int(record.pk)}"{row_class}>'
            f'<td class="cell-select"><input type="checkbox" name="ids" value="{int(record.pk)}" form="{SELECTION_FORM}" '
            f'aria-label="{escape(parts["select"] % {"title": record.title})}"></td>'
            f'<td class="cell-time">{escape(format_time(record.created_at))}</td>'
            f'<td class="cell-name"><a href="{links["customer-page"](customer.uin)}">{escape(customer.name)}</a> '
            f'<span class="muted mono">{int(customer.uin)}</span></td>'
            f'<td class="cell-message"><a href="{links["notifications:customer_alerts"](customer.uin)}" '
            f'title="{escape(record.body)}">{title}</a></td>'
            f'<td>{parts["unread" if unread else "read"]}</td></tr>\n'
        )
