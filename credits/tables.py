import django_tables2 as tables

from console.tables import NUMBER

from .models import AllocationRecord


class AllocationRecordTable(tables.Table):
    """Newest first, always: the (reseller, -created_at, -id) index gives each page without a sort,
    so the columns are not sortable (filters narrow the list instead). Rows render with one template
    (see customers.tables.CustomerTable for why)."""

    row_template = "credits/_record_row.html"

    created_at = tables.Column("Time")
    customer_uin = tables.Column("Customer UIN", accessor="customer__uin")
    customer_name = tables.Column("Customer name", accessor="customer__name")
    kind = tables.Column("Type", accessor="pk")
    amount = tables.Column("Amount", attrs=NUMBER)
    credit_after = tables.Column("Credit after", attrs=NUMBER)
    available_after = tables.Column("Available after", attrs=NUMBER)
    pool_remaining_after = tables.Column("Pool remaining after", attrs=NUMBER)
    operator_name = tables.Column("Operator")
    source = tables.Column("Source")
    remark = tables.Column("Remark")

    class Meta:
        orderable = False
        empty_text = "No allocation records match these filters."
        attrs = {"class": "table", "id": "records"}


EXPORT_HEADER = ["Time", "Customer UIN", "Customer name", "Type", "Amount", "Credit after", "Available after",
                 "Pool remaining after", "Operator", "Source", "Remark"]
EXPORT_FIELDS = ["created_at", "customer__uin", "customer__name", "amount", "credit_after", "available_after",
                 "pool_remaining_after", "operator_name", "source", "remark"]


def export_row(values: tuple, tz) -> list:
    created_at, uin, name, amount, credit_after, available_after, pool_after, operator, source, remark = values
    return [
        created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), uin, name,
        "Allocate" if amount > 0 else "Repossess", f"{amount:+.2f}", f"{credit_after:.2f}",
        f"{available_after:.2f}", f"{pool_after:.2f}", operator, AllocationRecord.Source(source).label, remark,
    ]
