"""The reseller console: sign-in, Overview, My Customers (list, row, export, remark).

Every console view goes through `member_required`: the signed-in user's membership decides the
reseller every read and write is scoped to, and its role decides whether the view may write."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event

from core.errors import DomainError
from credits import selectors as credit_selectors
from credits.forms import PoolApplicationForm
from credits.selectors import pool_summary

from . import selectors
from .filters import CustomerFilter
from .forms import RemarkForm
from .services import customer_remark_update
from .tables import EXPORT_FIELDS, EXPORT_HEADER, CustomerTable, export_row, stream_csv

PAGE_SIZES = (10, 20, 50, 100)
DEFAULT_PAGE_SIZE = 20


def member_required(view=None, *, write: bool = False):
    """Sign-in required; scope the request to the user's reseller (request.member, request.reseller)
    and show its times in the reseller's time zone. `write=True`: viewers get 403 (every method, so
    a forged POST is refused too). A user of no reseller gets an explanation, not an error page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            member = selectors.member_for_user(request.user)
            if member is None:
                status = 200 if request.method in ("GET", "HEAD") else 403
                return render(request, "console/no_reseller.html", status=status)
            # Fill the user's cached membership so the layout does not ask the database again.
            request.user.member = member
            request.member, request.reseller = member, member.reseller
            if write and not member.can_allocate:
                raise PermissionDenied("Your role can view but not change anything.")
            timezone.activate(member.reseller.zone)
            try:
                return view(request, *args, **kwargs)
            finally:
                timezone.deactivate()

        return wrapped

    return decorator(view) if view is not None else decorator


def htmx_target(request) -> str | None:
    """The id of the element an htmx request will fill; None for a full page (plain request, or
    htmx restoring history after a cache miss, which needs the whole page)."""
    if not request.htmx or request.htmx.history_restore_request:
        return None
    return request.htmx.target


def render_fragment(request, template: str, context: dict, *, fragments: tuple[str, ...], status: int = 200):
    """Render the named partial the htmx request targets (fragments are named after the DOM id they
    replace) or the whole page. The response varies on those headers, so no cache mixes them up."""
    target = htmx_target(request)
    name = f"{template}#{target}" if target in fragments else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target", "HX-History-Restore-Request"))
    return response


def render_modal(request, template: str, context: dict, *, status: int = 200):
    """The modal convention (see templates/console/modal.html): an htmx request gets the template's
    `modal` partial (a <dialog>, put into #modal); a plain request gets the whole page."""
    return render_fragment(request, template, context, fragments=("modal",), status=status)


def modal_done(request, *, message: str, redirect_to: str, events: dict | None = None):
    """Success of a modal form: 204 with HX-Trigger events for htmx (close the modal, show the
    message, plus `events`), else a redirect carrying the message."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(redirect_to)
    response = HttpResponse(status=204)
    for name, params in (events or {}).items():
        trigger_client_event(response, name, params)
    trigger_client_event(response, "closeModal")
    trigger_client_event(response, "showMessage", {"text": message, "level": "success"})
    return response


def customer_form_modal(
    request, *, customer, form_class, initial: dict, save, message, template: str, redirect_to: str,
    context: dict | None = None,
):
    """A small form about one customer in a modal (remark, custom warning, alert channels): GET shows
    it; a valid POST calls `save(cleaned_data)` (a service) and closes the modal with `message` (text,
    or a function of cleaned_data) and refreshes the customer's row; a domain error shows in the form
    and changes nothing."""
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                save(form.cleaned_data)
            except DomainError as error:
                error.add_to(form)
            else:
                text = message(form.cleaned_data) if callable(message) else message
                return modal_done(request, message=text, redirect_to=redirect_to,
                                  events={"customerUpdated": {"uin": customer.uin}})
    else:
        form = form_class(initial=initial)
    return render_modal(request, template, {"nav": "customers", "customer": customer, "form": form, **(context or {})})


def configure_table(request, table, *, paginator_class=Paginator):
    """Sorting and pagination from the query string. Unlike django-tables2's RequestConfig the page
    size is one of PAGE_SIZES, so `?per_page=100000` cannot load the whole list."""
    table.request = request
    sort = request.GET.getlist("sort")
    if sort:
        table.order_by = sort  # django-tables2 drops unknown and non-sortable columns
    try:
        per_page = int(request.GET.get("per_page", DEFAULT_PAGE_SIZE))
    except ValueError:
        per_page = DEFAULT_PAGE_SIZE
    if per_page not in PAGE_SIZES:
        per_page = DEFAULT_PAGE_SIZE
    try:
        table.paginate(paginator_class, per_page=per_page, page=request.GET.get("page") or 1)
    except PageNotAnInteger:
        table.paginate(paginator_class, per_page=per_page, page=1)
    except EmptyPage:
        table.page = table.paginator.page(table.paginator.num_pages)
    table.page_sizes = PAGE_SIZES
    return table


class SignInView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def overview_context(request, **extra) -> dict:
    reseller = request.reseller
    return {
        "nav": "overview",
        "summary": pool_summary(reseller),
        "latest": credit_selectors.latest_allocations(reseller=reseller),
        "applications": credit_selectors.pool_applications(reseller=reseller),
        "application_form": PoolApplicationForm(),
        **extra,
    }


@require_http_methods(["GET", "HEAD"])
@member_required
def overview(request):
    return render(request, "customers/overview.html", overview_context(request))


@require_GET
@member_required
def customer_list(request):
    reseller = request.reseller
    if htmx_target(request) == "pool-figures":
        # console.js asks for just the pool figures after an allocation.
        return render_fragment(request, "customers/customer_list.html", {"pool": credit_selectors.pool_figures(reseller=reseller)},
                               fragments=("pool-figures",))
    filterset = CustomerFilter(request.GET or None, queryset=selectors.customer_list(reseller=reseller))
    empty_text = _("No customers shown: correct the search or filters marked above.") if filterset.errors else None
    table = configure_table(request, CustomerTable(filterset.qs, can_write=request.member.can_allocate, empty_text=empty_text))
    context = {
        "nav": "customers",
        "filter": filterset,
        "table": table,
        "pool": credit_selectors.pool_figures(reseller=reseller),
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
    table = CustomerTable([], can_write=request.member.can_allocate)
    return render(request, table.row_template, {"record": customer, "table": table})


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
    return stream_csv(f"customers-{stamp}.csv", EXPORT_HEADER, (export_row(values, zone) for values in rows))


@require_http_methods(["GET", "POST"])
@member_required(write=True)
def customer_remark(request, uin: int):
    customer = selectors.customer_get(reseller=request.reseller, uin=uin)
    return customer_form_modal(
        request, customer=customer, form_class=RemarkForm, initial={"remark": customer.remark},
        save=lambda data: customer_remark_update(customer=customer, remark=data["remark"]),
        message="Remark saved", template="customers/remark.html", redirect_to="/customers/",
    )


def without(query, *names) -> str:
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
