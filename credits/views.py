"""Allocate Credit, repayments, Allocation Records and the pool's figures, in the reseller console."""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from console.access import member_required
from console.export import stream_csv
from console.htmx import modal_done, render_fragment, render_modal
from console.tables import CappedCountPaginator, configure_table, without
from core.errors import DomainError, IdempotencyConflict
from core.timezones import header_naming_zone
from customers import selectors as customer_selectors
from customers.modals import customer_updated

from . import selectors
from .filters import AllocationRecordFilter
from .forms import AllocateForm, RepaymentForm, new_idempotency_key
from .models import AllocationRecord
from .services import credit_allocate, credit_allocate_check, repayment_confirm
from .tables import EXPORT_FIELDS, EXPORT_HEADER, AllocationRecordTable, export_row


@require_http_methods(["GET", "POST"])
@member_required(write=True)
def allocate(request, uin: int):
    reseller = request.reseller
    customer = customer_selectors.customer_get(reseller=reseller, uin=uin)
    confirm = None
    if request.method == "POST":
        form = AllocateForm(request.POST)
        if "edit" not in request.POST and form.is_valid():
            data = form.cleaned_data
            try:
                if data["confirmed"] or not data["amount"].strip().startswith("-"):
                    # An allocation, or a confirmed repossession: the service checks its rules under
                    # its locks, and a repeated key (a double click) answers with the first record.
                    record = credit_allocate(
                        reseller=reseller, customer=customer, amount=data["amount"], actor=request.user,
                        source=AllocationRecord.Source.CONSOLE, remark=data["remark"],
                        idempotency_key=data["idempotency_key"],
                    )
                else:
                    # A repossession is stated first (issue 14) and moves nothing until confirmed.
                    amount = credit_allocate_check(reseller=reseller, customer=customer, amount=data["amount"])
                    confirm = {"amount": -amount, "available_after": customer.available + amount}
            except DomainError as error:
                _refused(form, error)
            else:
                if confirm is None:
                    message = _("Allocation successful") if record.amount > 0 else _("Repossession successful")
                    # creditAllocated: the pool figures refresh; the customer's row listens for its own event.
                    return modal_done(request, message=message, redirect_to="/customers/",
                                      events={"creditAllocated": {"uin": customer.uin}, **customer_updated(customer.uin)})
    else:
        form = AllocateForm(initial={"idempotency_key": new_idempotency_key()})
    context = {
        "nav": "customers",
        "customer": customer,
        "pool": selectors.pool_figures(reseller=reseller),
        "form": form,
        "confirm": confirm,
        "records": selectors.latest_allocations(reseller=reseller, customer=customer, limit=10),
    }
    return render_modal(request, "credits/allocate.html", context)


def _refused(form, error: DomainError) -> None:
    """Show a service's refusal in the form; a used idempotency key is renewed."""
    error.add_to(form)
    if isinstance(error, IdempotencyConflict):
        # That key belongs to an earlier operation: the next Confirm needs a fresh one.
        form.data = form.data.copy()
        form.data["idempotency_key"] = new_idempotency_key()


@require_http_methods(["GET", "POST"])
@member_required(write=True)
def repayment(request, uin: int):
    customer = customer_selectors.customer_get(reseller=request.reseller, uin=uin)
    if request.method == "POST":
        form = RepaymentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                repayment_confirm(
                    reseller=request.reseller, customer=customer, amount=data["amount"], actor=request.user,
                    remark=data["remark"], idempotency_key=data["idempotency_key"],
                )
            except DomainError as error:
                _refused(form, error)
            else:
                return modal_done(request, message=_("Repayment confirmed"), redirect_to="/customers/",
                                  events=customer_updated(customer.uin))
    else:
        form = RepaymentForm(initial={"idempotency_key": new_idempotency_key()})
    context = {
        "nav": "customers", "customer": customer, "form": form,
        "repayments": selectors.latest_repayments(customer=customer, limit=10),
    }
    return render_modal(request, "credits/repayment.html", context)


def _record_filter(request, customer=None) -> AllocationRecordFilter:
    filterset = AllocationRecordFilter(
        request.GET or None, queryset=selectors.allocation_records(reseller=request.reseller, customer=customer)
    )
    if customer is not None:
        del filterset.filters["uin"]  # before .form is built, so the page has no UIN field either
    return filterset


def _records_page(request, *, customer=None):
    filterset = _record_filter(request, customer)
    empty_text = _("No records shown: correct the filters marked above.") if filterset.errors else None
    table = configure_table(request, AllocationRecordTable(filterset.qs, empty_text=empty_text),
                            paginator_class=CappedCountPaginator)
    context = {
        "nav": "customers" if customer is not None else "records",
        "customer": customer,
        "filter": filterset,
        "table": table,
        "export_query": without(request.GET, "page", "per_page"),
    }
    return render_fragment(request, "credits/records.html", context, fragments=("record-table",))


@require_GET
@member_required
def records(request):
    return _records_page(request)


@require_GET
@member_required
def customer_records(request, uin: int):
    return _records_page(request, customer=customer_selectors.customer_get(reseller=request.reseller, uin=uin))


def _export(request, *, customer=None):
    filterset = _record_filter(request, customer)
    if filterset.errors:
        # Not a file of the wrong records: the page, which marks the filter to correct.
        page = reverse("credits:customer-records", args=[customer.uin]) if customer else reverse("credits:records")
        return redirect(f"{page}?{request.GET.urlencode()}")
    rows = filterset.qs.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)
    zone = timezone.get_current_timezone()
    stamp = timezone.localdate().strftime("%Y%m%d")
    name = f"allocation-records-{customer.uin}-{stamp}.csv" if customer else f"allocation-records-{stamp}.csv"
    return stream_csv(name, header_naming_zone(EXPORT_HEADER, "Time", zone),
                      (export_row(values, zone) for values in rows))


@require_GET
@member_required
def records_export(request):
    """Every record the filters select, newest first, streamed from a database cursor."""
    return _export(request)


@require_GET
@member_required
def customer_records_export(request, uin: int):
    return _export(request, customer=customer_selectors.customer_get(reseller=request.reseller, uin=uin))


@require_GET
@member_required
def pool_figures(request):
    """Total, allocated and remaining customer credit: a page, and the `pool-figures` fragment My
    Customers loads (customers imports nothing of credits, so the figures come from here)."""
    context = {"nav": "customers", "pool": selectors.pool_figures(reseller=request.reseller)}
    return render_fragment(request, "credits/pool_figures.html", context, fragments=("pool-figures",))
