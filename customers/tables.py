from functools import cached_property
from html import escape

import django_tables2 as tables
from django.db.models import F
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy as _

from console.tables import ARGUMENT_MARK, NUMBER, ConsoleTable, RowLinks, usage_meter, usage_meter_texts
from core.money import format_money
from core.rules import used_percent
from core.timezones import format_time

from .models import Customer
from .selectors import customer_rows


class CustomerTable(ConsoleTable):
    """My Customers. The columns give the headers, sorting (each sort has an index) and pagination;
    the table writes each row itself (render_row): django-tables2's per-cell rendering cost about
    2.5 ms a row, a row template about 1 ms, format_html a few hundredths (console/tables.py)."""

    renders_rows = True
    # The page's customers are read as CustomerRow values, not a Customer and a CustomerBalance per row.
    page_rows = staticmethod(customer_rows)

    uin = tables.Column(_("UIN"), order_by=("uin",))
    name = tables.Column(_("Name"), order_by=("name", "id"), attrs={"th": {"class": "cell-name"}})
    remark = tables.Column(_("Remark"), order_by=("remark", "id"))
    email = tables.Column(_("Email"), order_by=("email", "id"))
    phone = tables.Column(_("Phone"), orderable=False)
    bound_at = tables.Column(_("Binding time"), order_by=("bound_at", "id"))
    # Sorting reads the balance's indexes (reseller, credit / used / available, customer); available
    # is stored, never credit - used.
    credit = tables.Column(_("Credit"), order_by=("balance__credit", "id"), attrs=NUMBER)
    used = tables.Column(_("Used"), order_by=("balance__used", "id"), attrs=NUMBER)
    available = tables.Column(_("Available"), order_by=("balance__available", "id"), attrs=NUMBER)
    # None (no run-out date: spends nothing) sorts as the longest: last going up, first going down.
    days_to_zero = tables.Column(_("Days to zero"), order_by=("balance__days_to_zero", "id"), attrs=NUMBER)
    # The stored used / credit (CustomerBalance.used_ratio), indexed like the other balance columns.
    used_percent = tables.Column(_("Used %"), accessor="pk", order_by=("balance__used_ratio", "id"))
    # The status is the balance's (stored, indexed per reseller: balance_reseller_status).
    account_status = tables.Column(_("Account status"), order_by=("balance__status", "id"))
    operation = tables.Column(_("Operation"), accessor="pk", orderable=False, attrs={"th": {"class": "cell-actions"}})

    # What the list says with no customer at all (console.tables.empty_state).
    empty_unfiltered_text = _("No customers are bound to your account yet.")
    empty_unfiltered_hint = _(
        "A customer appears here once it is bound to your account: when its invitation is accepted and approved, "
        "or when the platform admin creates it. Then allocate it credit from your pool.")

    class Meta:
        empty_text = _("No customers match these filters.")
        order_by = ("-bound_at",)
        attrs = {"class": "table", "id": "customers"}

    def _order_by_balance(self, queryset, is_descending: bool, column: str):
        # The balance's reseller is the customer's; said here, the planner derives the reseller for
        # the balance and walks its (reseller, column, customer) index instead of joining them all.
        # NULLs (used_ratio's "over 100%") sort highest both ways, as PostgreSQL's index has them.
        value = F(f"balance__{column}")
        order = value.desc(nulls_first=True) if is_descending else value.asc(nulls_last=True)
        ordered = queryset.filter(balance__reseller=F("reseller")).order_by(order, "-id" if is_descending else "id")
        # A sort does not change how many rows there are: the page counts the unsorted rows, without
        # the join this filter adds (console.tables.CappedCountPaginator reads count_source).
        ordered.count_source = getattr(queryset, "count_source", queryset)
        return ordered, True

    def order_credit(self, queryset, is_descending):
        return self._order_by_balance(queryset, is_descending, "credit")

    def order_used(self, queryset, is_descending):
        return self._order_by_balance(queryset, is_descending, "used")

    def order_available(self, queryset, is_descending):
        return self._order_by_balance(queryset, is_descending, "available")

    def order_used_percent(self, queryset, is_descending):
        return self._order_by_balance(queryset, is_descending, "used_ratio")

    def order_account_status(self, queryset, is_descending):
        return self._order_by_balance(queryset, is_descending, "status")

    def order_days_to_zero(self, queryset, is_descending):
        return self._order_by_balance(queryset, is_descending, "days_to_zero")

    def __init__(self, *args, can_write: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_write = can_write


    @cached_property
    def _row_parts(self) -> dict:
        """What every row repeats, written once per table: the row's opening, its actions cell
        (frozen or not) with the links' routes and the translated labels, escaped, each with
        ARGUMENT_MARK where the customer's UIN goes; and the texts of the usage meter."""
        label = {key: escape(text) for key, text in {
            "allocate": gettext("Allocate Credit"), "records": gettext("Allocation Record"), "more": gettext("More"),
            "repayment": gettext("Confirm Repayment"), "remark": gettext("Edit remark"),
            "warning": gettext("Custom Balance Warning"), "channels": gettext("Alert Channels"),
            "alerts": gettext("Alert history"), "freeze": gettext("Freeze"), "unfreeze": gettext("Unfreeze"),
            "status_history": gettext("Status history"),
        }.items()}
        links = RowLinks(*ROW_ROUTES.values())
        mark = ARGUMENT_MARK
        url = {key: links[route](mark) for key, route in ROW_ROUTES.items()}

        def modal_link(key: str, text: str) -> str:
            return f'<a href="{url[key]}" hx-get="{url[key]}" hx-target="#modal" hx-swap="innerHTML">{text}</a>'

        allocate = ""
        closes = {}
        for frozen in (False, True):
            more = ""
            if self.can_write:
                more = "".join(modal_link(key, label[key]) for key in ("repayment", "remark", "warning", "channels"))
                more += modal_link("freeze", label["unfreeze" if frozen else "freeze"])
            more += modal_link("status_history", label["status_history"])
            closes[frozen] = (f'">{label["more"]}</summary><div class="menu-items">{more}<a href="{url["alerts"]}">'
                              f'{label["alerts"]}</a></div></details></div></td></tr>\n')
        if self.can_write:
            allocate = (f'<a href="{url["allocate"]}" hx-get="{url["allocate"]}" hx-target="#modal" hx-swap="innerHTML" '
                        f'class="link">{label["allocate"]}</a>')
        return {
            "open": (f'<tr id="customer-{mark}" hx-get="{url["row"]}" hx-trigger="customerUpdated-{mark} from:body" '
                     f'hx-target="this" hx-swap="outerHTML"><td>{mark}</td><td class="cell-name"><a href="{url["page"]}">'),
            "actions": (f'<td class="cell-actions"><div class="row-actions">{allocate}<a href="{url["records"]}" class="link">'
                        f'{label["records"]}</a><details class="more-menu" data-menu><summary class="link" aria-label="'),
            "closes": closes,
            "deletion_in": gettext("data deleted in %(days)s d"),
            # Each status's class name and label, escaped: a row looks its own up instead of
            # translating its label again (100 rows, 100 translations of the same few words).
            "status": {value: (escape(value), escape(str(label))) for value, label in Customer.AccountStatus.choices},
            # The active zone (the reseller's on console pages), read once for every row's time.
            "zone": timezone.get_current_timezone(),
            "more_for": gettext("More actions for %(name)s"),
            "meter": usage_meter_texts(),
        }

    def render_row(self, record) -> str:
        """One customer's row, from a Customer or a CustomerRow. It refreshes itself when the
        customer changes: it listens for the customer's own event (customers.modals.customer_updated)."""
        parts = self._row_parts
        uin = str(int(record.uin))
        remark, email = escape(record.remark), escape(record.email)
        remark_title = f' title="{remark}"' if remark else ""
        email_title = f' title="{email}"' if email else ""
        days = record.days_until_deletion
        deletion = "" if days is None else f' <span class="muted">{escape(parts["deletion_in"] % {"days": days})}</span>'
        status_class, status_label = parts["status"][record.account_status]
        return mark_safe(
            f'{parts["open"].replace(ARGUMENT_MARK, uin)}{escape(record.name)}</a></td>'
            f'<td class="cell-remark"{remark_title}>{remark}</td>'
            f'<td class="cell-email"{email_title}>{email}</td>'
            f'<td>{escape(record.phone)}</td><td class="cell-time">{escape(format_time(record.bound_at, zone=parts["zone"]))}</td>'
            f'<td class="num">{format_money(record.credit)}</td><td class="num">{format_money(record.used)}</td>'
            f'<td class="num{" negative" if record.available <= 0 else ""}">{format_money(record.available)}</td>'
            f'<td class="num">{days_to_zero_text(record.days_to_zero)}</td>'
            f'<td class="cell-usage">{usage_meter(record.used, record.credit, record.usage_band, parts["meter"])}</td>'
            f'<td><span class="status status-{status_class}">{status_label}</span>{deletion}</td>'
            f'{parts["actions"].replace(ARGUMENT_MARK, uin)}{escape(parts["more_for"] % {"name": record.name})}'
            f'{parts["closes"][bool(record.frozen)].replace(ARGUMENT_MARK, uin)}'
        )


def days_to_zero_text(days) -> str:
    """Whole days, or an em dash when the customer spends nothing (no run-out date)."""
    return "—" if days is None else f"{int(days):,}"


# Where a row of My Customers links to: every route takes the customer's UIN.
ROW_ROUTES = {
    "row": "customers:row", "allocate": "credits:allocate", "records": "credits:customer-records",
    "repayment": "credits:repayment", "remark": "customers:remark", "warning": "notifications:custom_warning",
    "channels": "notifications:customer_channels", "alerts": "notifications:customer_alerts",
    "freeze": "notifications:customer_freeze", "status_history": "customers:status_history",
    "page": "customer-page",
}


# The CSV export: the columns a spreadsheet needs, as plain values (no thousands separators).
EXPORT_HEADER = ["UIN", _("Name"), _("Remark"), _("Email"), _("Phone"), _("Binding time"), _("Credit"), _("Used"), _("Available"),
                 _("Used %"), _("Account status"), _("Days to zero")]
EXPORT_FIELDS = ["uin", "name", "remark", "email", "phone", "bound_at", "balance__credit", "balance__used",
                 "balance__available", "balance__status", "balance__days_to_zero"]


def export_row(values: tuple, tz) -> list:
    """Days to zero is empty for a customer that spends nothing (no run-out date), as on the page."""
    uin, name, remark, email, phone, bound_at, credit, used, available, status, days_to_zero = values
    percent = used_percent(used, credit)
    if percent is None:
        percent = "over 100" if used > 0 else ""
    return [
        uin, name, remark, email, phone, bound_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        f"{credit:.2f}", f"{used:.2f}", f"{available:.2f}", str(percent), Customer.AccountStatus(status).label,
        "" if days_to_zero is None else f"{days_to_zero:.0f}",
    ]
