"""My Customers in the reseller console: the list, a row, the export and the remark; invitations and
pending customers (onboarding)."""

from functools import partial

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.access import member_required
from console.export import stream_csv
from console.htmx import form_modal, render_fragment, render_modal
from console.tables import CappedCountPaginator, configure_table, without
from core.errors import DomainError
from core.timezones import header_naming_zone

from . import selectors, services
from .filters import CustomerFilter
from .forms import InviteForm, RejectForm, RemarkForm
from .modals import customer_form_modal
from .services import customer_remark_update
from .tables import EXPORT_FIELDS, EXPORT_HEADER, CustomerTable, export_row


@require_GET
@member_required
def customer_list(request):
    reseller = request.reseller
    filterset = CustomerFilter(request.GET or None, queryset=selectors.customer_list(reseller=reseller))
    empty_text = _("No customers shown: correct the search or filters marked above.") if filterset.errors else None
    table = CustomerTable(filterset.qs, can_write=request.member.can_allocate, empty_text=empty_text)
    table.searched = filterset.searched()
    conditions = filterset.balance_conditions()
    if conditions:
        # Filtered on the balance alone: counted from the balance's index, without the join.
        table.count_source = partial(selectors.balances_matching_count, reseller=reseller, conditions=conditions)
    table = configure_table(request, table, paginator_class=CappedCountPaginator)
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


# Onboarding: invitations and pending customers (DESIGN §7).

def _page(request, queryset, per_page: int = 50):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


@require_GET
@member_required
def invitation_list(request):
    context = {"nav": "customers", "tab": "invitations", "page": _page(request, selectors.invitation_list(reseller=request.reseller))}
    return render(request, "customers/invitations.html", context)


@require_http_methods(["GET", "POST"])
@member_required(write=True)
def invitation_create(request):
    def save(data):
        invitation, _link = services.invitation_create(reseller=request.reseller, email=data["email"], actor=request.user)
        return invitation

    return form_modal(
        request, form_class=InviteForm, initial={}, save=save,
        message=lambda data: _("Invitation sent to %(email)s") % {"email": data["email"]},
        template="customers/invite.html", redirect_to=reverse("customers:invitations"),
        events={"invitationsChanged": {}}, context={"nav": "customers"},
    )


def _act(request, action, *, message: str, redirect_to: str):
    """A row action posted from a list: run the service, say what happened (or why not), back to the list."""
    try:
        action()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, message)
    return redirect(redirect_to)


@require_POST
@member_required(write=True)
def invitation_resend(request, invitation_id: int):
    return _act(request, lambda: services.invitation_resend(reseller=request.reseller, invitation_id=invitation_id),
                message=_("Invitation sent again with a new link."), redirect_to=reverse("customers:invitations"))


@require_POST
@member_required(write=True)
def invitation_revoke(request, invitation_id: int):
    return _act(request, lambda: services.invitation_revoke(reseller=request.reseller, invitation_id=invitation_id),
                message=_("Invitation revoked: its link no longer works."), redirect_to=reverse("customers:invitations"))


@require_GET
@member_required
def pending_list(request):
    context = {"nav": "customers", "tab": "pending", "page": _page(request, selectors.pending_applications(reseller=request.reseller))}
    return render(request, "customers/pending.html", context)


@require_POST
@member_required(write=True)
def application_approve(request, uin: int):
    application = selectors.pending_application_get(reseller=request.reseller, uin=uin)
    return _act(
        request, lambda: services.application_approve(reseller=request.reseller, uin=application.uin, actor=request.user),
        message=_("%(name)s (UIN %(uin)s) is approved and now in My Customers with 0.00 credit.")
        % {"name": application.name, "uin": application.uin},
        redirect_to=reverse("customers:pending"),
    )


@require_http_methods(["GET", "POST"])
@member_required(write=True)
def application_reject(request, uin: int):
    application = selectors.pending_application_get(reseller=request.reseller, uin=uin)
    return form_modal(
        request, form_class=RejectForm, initial={},
        save=lambda data: services.application_reject(reseller=request.reseller, uin=application.uin,
                                                      reason=data["reason"], actor=request.user),
        message=_("Application of %(name)s rejected; the reason was e-mailed.") % {"name": application.name},
        template="customers/reject.html", redirect_to=reverse("customers:pending"),
        events={"applicationsChanged": {}}, context={"nav": "customers", "application": application},
    )
