"""My Customers in the reseller console: the list, a row, the export and the remark."""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from console.access import member_required
from console.export import stream_csv
from console.htmx import render_fragment, render_modal
from console.tables import CappedCountPaginator, configure_table, without
from core.timezones import header_naming_zone

from . import selectors
from .filters import CustomerFilter
from .forms import RemarkForm
from .modals import customer_form_modal
from .services import customer_remark_update
from .tables import EXPORT_FIELDS, EXPORT_HEADER, CustomerTable, export_row


@require_GET
@member_required
def customer_list(request):
    reseller = request.reseller
    filterset = CustomerFilter(request.GET or None, queryset=selectors.customer_list(reseller=reseller))
    empty_text = _("No customers shown: correct the search or filters marked above.") if filterset.errors else None
    table = configure_table(request, CustomerTable(filterset.qs, can_write=request.member.can_allocate, empty_text=empty_text),
                            paginator_class=CappedCountPaginator)
    context = {
        "nav": "customers",
        "filter": filterset,
        "table": table,
        "export_query": without(request.GET, "page", "per_page"),
    }
    return render_fragment(request, "customers/customer_list.html", context, fragments=("customer-table",))


@require_GET
@member_required
def customer_row(request, uin: int):
    """One row of My Customers, refreshed in place after an allocation or a remark change."""
    customer = selectors.customer_get(reseller=request.reseller, uin=uin)
    if not request.htmx:
        return redirect(f"/customers/?q={customer.uin}")
    return HttpResponse(CustomerTable([], can_write=request.member.can_allocate).render_row(customer))


@require_GET
@member_required
def customer_export(request):
    """Every customer the current filters and sort select, streamed: the rows come from a database
    cursor in chunks, so 100,000 customers never sit in memory at once."""
    filterset = CustomerFilter(request.GET or None, queryset=selectors.customer_list(reseller=request.reseller))
    if filterset.errors:
        # Not a file of the wrong customers: the page, which marks the filter to correct.
        return redirect(f"{reverse('customers:list')}?{request.GET.urlencode()}")
    table = CustomerTable(filterset.qs)
    sort = request.GET.getlist("sort")
    if sort:
        table.order_by = sort
    # table.data.data: the filtered queryset as django-tables2 ordered it (same sort as the page).
    rows = table.data.data.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)
    zone = timezone.get_current_timezone()
    stamp = timezone.localdate().strftime("%Y%m%d")
    return stream_csv(f"customers-{stamp}.csv", header_naming_zone(EXPORT_HEADER, "Binding time", zone),
                      (export_row(values, zone) for values in rows))


@require_GET
@member_required
def customer_status_history(request, uin: int):
    """The customer's account status timeline in a modal (its fragment, customers/status_history.html
    #status-history, is what the customer page includes)."""
    customer = selectors.customer_get(reseller=request.reseller, uin=uin)
    context = {"nav": "customers", "customer": customer, "events": selectors.status_events(customer=customer)}
    return render_modal(request, "customers/status_history.html", context)


@require_http_methods(["GET", "POST"])
@member_required(write=True)
def customer_remark(request, uin: int):
    customer = selectors.customer_get(reseller=request.reseller, uin=uin)
    return customer_form_modal(
        request, customer=customer, form_class=RemarkForm, initial={"remark": customer.remark},
        save=lambda data: customer_remark_update(customer=customer, remark=data["remark"]),
        message=_("Remark saved"), template="customers/remark.html", redirect_to="/customers/",
    )
