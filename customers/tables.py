import csv
import re
from functools import cached_property

import django_tables2 as tables
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse

from core.money import quantize_money

from .models import Customer

NUMBER = {"th": {"class": "num"}, "td": {"class": "num"}}


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows, so a page of a million-row ledger never waits for a full COUNT(*).

    Beyond the cap the page says "10,000+" and the last reachable page is cap / per_page; filters
    narrow the list (and the CSV export always has every row)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # object_list is django-tables2's BoundRows around TableQuerysetData around the QuerySet.
        queryset = getattr(getattr(self.object_list, "data", None), "data", self.object_list)
        counted = queryset[: self.cap + 1].count()
        self.more = counted > self.cap
        return min(counted, self.cap)

    more = False


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
    credit = tables.Column("Credit", order_by=("credit", "id"), attrs=NUMBER)
    used = tables.Column("Used", order_by=("used", "id"), attrs=NUMBER)
    # Sorting reads the stored, indexed `available` (reseller, available), never credit - used.
    available = tables.Column("Available", order_by=("available", "id"), attrs=NUMBER)
    used_percent = tables.Column("Used %", accessor="pk", orderable=False)
    account_status = tables.Column("Account status", orderable=False)
    operation = tables.Column("Operation", accessor="pk", orderable=False, attrs={"th": {"class": "cell-actions"}})

    class Meta:
        empty_text = "No customers match these filters."
        order_by = ("-bound_at",)
        attrs = {"class": "table", "id": "customers"}

    def __init__(self, *args, can_write: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_write = can_write


# The CSV export: the columns a spreadsheet needs, as plain values (no thousands separators).
EXPORT_HEADER = ["UIN", "Name", "Remark", "Email", "Phone", "Binding time", "Credit", "Used", "Available",
                 "Used %", "Account status"]
EXPORT_FIELDS = ["uin", "name", "remark", "email", "phone", "bound_at", "credit", "used", "available",
                 "account_status"]


def export_row(values: tuple, tz) -> list:
    uin, name, remark, email, phone, bound_at, credit, used, available, status = values
    if credit > 0:
        percent = str(quantize_money(used * 100 / credit))
    else:
        percent = "over 100" if used > 0 else ""
    return [
        uin, name, remark, email, phone, bound_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        f"{credit:.2f}", f"{used:.2f}", f"{available:.2f}", percent, Customer.AccountStatus(status).label,
    ]


# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ...except plain numbers (a signed amount) and phone numbers, which a spreadsheet reads as data.
_NUMBER_OR_PHONE = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$|^\+?[0-9][0-9 ()-]*$")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER_OR_PHONE.match(value):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def stream_csv(filename: str, header: list[str], rows, *, batch: int = 500) -> StreamingHttpResponse:
    """A CSV download written while it is read: `rows` is consumed lazily, `batch` lines per chunk."""
    writer = csv.writer(_Echo())

    def chunks():
        lines = ["\ufeff" + writer.writerow(header)]  # the BOM makes Excel read UTF-8
        for row in rows:
            lines.append(writer.writerow([safe_cell(value) for value in row]))
            if len(lines) >= batch:
                yield "".join(lines)
                lines = []
        yield "".join(lines)

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
