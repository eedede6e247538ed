"""What a change to one customer tells the page, and the small forms about one customer in a modal
(remark, custom warning, alert channels, repayment, allocation: in customers, notifications and
credits). On success the customer's row in My Customers refreshes itself: it listens for the
customer's own event (customers.tables.CustomerTable.render_row)."""

from console.htmx import form_modal

from .models import Customer


def customer_updated(uin: int) -> dict:
    """The HX-Trigger events saying this customer changed: `customerUpdated` {"uin": ...} for any
    listener, and `customerUpdated-<uin>`, the one its row listens for. One event per customer,
    because telling them apart by their detail (hx-trigger="customerUpdated[detail.uin==...]")
    makes htmx evaluate script, which the Content-Security-Policy and htmx-config forbid."""
    return {"customerUpdated": {"uin": uin}, f"customerUpdated-{uin}": {}}


def customer_form_modal(request, *, customer: Customer, context: dict | None = None, **kwargs):
    """console.htmx.form_modal about `customer` (see there for the other arguments)."""
    return form_modal(
        request,
        events=customer_updated(customer.uin),
        context={"nav": "customers", "customer": customer, **(context or {})},
        **kwargs,
    )
