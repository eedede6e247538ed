from functools import cached_property
from html import escape

import django_tables2 as tables
from django.urls import reverse_lazy
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy as _

from console.tables import NUMBER, ConsoleTable, RowLinks
from core.money import format_money
from core.timezones import format_time

from .models import AllocationRecord
from .selectors import RecordRow, record_rows


class AllocationRecordTable(ConsoleTable):
    """Newest first, always: the (reseller, -created_at, -id) index gives each page without a sort,
    so the columns are not sortable (filters narrow the list instead). The table writes its rows
    itself (see console/tables.py for why)."""

    renders_rows = True
    # The page's records are read as RecordRow values, not a record and its customer per row.
    page_rows = staticmethod(record_rows)

    created_at = tables.Column(_("Time"))
    customer_uin = tables.Column(_("Customer UIN"), accessor="customer__uin")
    customer_name = tables.Column(_("Customer name"), accessor="customer__name")
    kind = tables.Column(_("Type"), accessor="pk")
    amount = tables.Column(_("Amount"), attrs=NUMBER)
    credit_after = tables.Column(_("Credit after"), attrs=NUMBER)
    available_after = tables.Column(_("Available after"), attrs=NUMBER)
    pool_remaining_after = tables.Column(_("Pool remaining after"), attrs=NUMBER)
    operator_name = tables.Column(_("Operator"))
    source = tables.Column(_("Source"))
    remark = tables.Column(_("Remark"))

    # What the list says before any allocation (console.tables.empty_state).
    empty_unfiltered_text = _("No allocations yet.")
    empty_unfiltered_hint = _(
        "Every allocation and repossession of credit is recorded here, with who made it and the balances after it.")
    empty_action = (reverse_lazy("customers:list"), _("Allocate credit in My Customers"))

    class Meta:
        orderable = False
        empty_text = _("No allocation records match these filters.")
        attrs = {"class": "table", "id": "records"}

    @cached_property
    def _row_parts(self) -> dict:
        """What every row repeats: the link's route and the translated labels, escaped."""
        return {
            "link": RowLinks("credits:customer-records")["credits:customer-records"],
            "page": RowLinks("customer-page")["customer-page"],
            "allocate": escape(gettext("Allocate")), "repossess": escape(gettext("Repossess")),
        }

    def render_row(self, record: RecordRow) -> str:
        parts = self._row_parts
        uin = record.customer_uin
        if record.amount > 0:
            kind = f'<span class="tag tag-allocate">{parts["allocate"]}</span>'
            amount = f'<td class="num amount-in">+{format_money(record.amount)}</td>'
        else:
            kind = f'<span class="tag tag-repossess">{parts["repossess"]}</span>'
            amount = f'<td class="num amount-out">{format_money(record.amount)}</td>'
        return mark_safe(
            f'<tr><td>{escape(format_time(record.created_at, seconds=True))}</td>'
            f'<td><a href="{parts["link"](uin)}">{uin}</a></td>'
            f'<td><a href="{parts["page"](uin)}">{escape(record.customer_name)}</a></td>'
            f'<td>{kind}</td>{amount}<td class="num">{format_money(record.credit_after)}</td>'
            f'<td class="num{" negative" if record.available_after <= 0 else ""}">{format_money(record.available_after)}</td>'
            f'<td class="num">{format_money(record.pool_remaining_after)}</td><td>{escape(record.operator_name)}</td>'
            f'<td>{escape(record.get_source_display())}</td><td class="cell-wrap">{escape(record.remark)}</td></tr>\n'
        )


EXPORT_HEADER = [_("Time"), _("Customer UIN"), _("Customer name"), _("Type"), _("Amount"), _("Credit after"), _("Available after"),
                 _("Pool remaining after"), _("Operator"), _("Source"), _("Remark")]
EXPORT_FIELDS = ["created_at", "customer__uin", "customer__name", "amount", "credit_after", "available_after",
                 "pool_remaining_after", "operator_name", "source", "remark"]


def export_row(values: tuple, tz) -> list:
    created_at, uin, name, amount, credit_after, available_after, pool_after, operator, source, remark = values
    return [
        created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), uin, name,
        gettext("Allocate") if amount > 0 else gettext("Repossess"), f"{amount:+.2f}", f"{credit_after:.2f}",
        f"{available_after:.2f}", f"{pool_after:.2f}", operator, AllocationRecord.Source(source).label, remark,
    ]
