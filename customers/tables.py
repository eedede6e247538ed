import django_tables2 as tables
from django.db.models import F

from console.tables import NUMBER
from core.rules import used_percent

from .models import Customer


class CustomerTable(tables.Table):
    """My Customers. The columns give the headers, sorting (each sort has an index) and pagination;
    the body is one row template (customers/_customer_row.html) rather than django-tables2's
    per-cell rendering, which inspects each cell's render signature and attributes: about 2.5 ms a
    row here, against a p95 budget of 150 ms for the whole page (see bench/console.py)."""

    row_template = "customers/_customer_row.html"

    uin = tables.Column("UIN", order_by=("uin",))
    name = tables.Column("Name", order_by=("name", "id"))
    remark = tables.Column("Remark", orderable=False)
    email = tables.Column("Email", orderable=False)
    phone = tables.Column("Phone", orderable=False)
    bound_at = tables.Column("Binding time", order_by=("bound_at", "id"))
    # Sorting reads the balance's indexes (reseller, credit / used / available, customer); available
    # is stored, never credit - used.
    credit = tables.Column("Credit", order_by=("balance__credit", "id"), attrs=NUMBER)
    used = tables.Column("Used", order_by=("balance__used", "id"), attrs=NUMBER)
    available = tables.Column("Available", order_by=("balance__available", "id"), attrs=NUMBER)
    used_percent = tables.Column("Used %", accessor="pk", orderable=False)
    account_status = tables.Column("Account status", orderable=False)
    operation = tables.Column("Operation", accessor="pk", orderable=False, attrs={"th": {"class": "cell-actions"}})

    class Meta:
        empty_text = "No customers match these filters."
        order_by = ("-bound_at",)
        attrs = {"class": "table", "id": "customers"}

    def _order_by_balance(self, queryset, is_descending: bool, column: str):
        # The balance's reseller is the customer's; said here, the planner derives the reseller for
        # the balance and walks its (reseller, column, customer) index instead of joining them all.
        sign = "-" if is_descending else ""
        ordered = queryset.filter(balance__reseller=F("reseller")).order_by(f"{sign}balance__{column}", f"{sign}id")
        return ordered, True

    def order_credit(self, queryset, is_descending):
        return self._order_by_balance(queryset, is_descending, "credit")

    def order_used(self, queryset, is_descending):
        return self._order_by_balance(queryset, is_descending, "used")

    def order_available(self, queryset, is_descending):
        return self._order_by_balance(queryset, is_descending, "available")

    def __init__(self, *args, can_write: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_write = can_write


# The CSV export: the columns a spreadsheet needs, as plain values (no thousands separators).
EXPORT_HEADER = ["UIN", "Name", "Remark", "Email", "Phone", "Binding time", "Credit", "Used", "Available",
                 "Used %", "Account status"]
EXPORT_FIELDS = ["uin", "name", "remark", "email", "phone", "bound_at", "balance__credit", "balance__used",
                 "balance__available", "account_status"]


def export_row(values: tuple, tz) -> list:
    uin, name, remark, email, phone, bound_at, credit, used, available, status = values
    percent = used_percent(used, credit)
    if percent is None:
        percent = "over 100" if used > 0 else ""
    return [
        uin, name, remark, email, phone, bound_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        f"{credit:.2f}", f"{used:.2f}", f"{available:.2f}", str(percent), Customer.AccountStatus(status).label,
    ]
