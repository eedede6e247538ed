"""Console pages of usage alerts: Message Center, notification settings, a customer's alert
history, its Custom Balance Warning and its own alert channels. Thin: read through selectors, write through services."""

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.access import member_required, membership_of
from console.htmx import render_fragment
from console.tables import CappedCountPaginator, configure_table
from core.errors import DomainError, NotFound, NotPermitted
from customers import selectors as customer_selectors
from customers.modals import customer_form_modal
from customers.models import Member
from customers.services import reseller_time_zone_update

from . import selectors, services
from .filters import MessageFilter
from .forms import (
    ConfirmForm,
    CustomerChannelsForm,
    CustomWarningForm,
    MemberChannelsForm,
    ResellerAlertSettingsForm,
    TimeZoneForm,
)
from .services.status import customer_freeze as freeze, customer_unfreeze as unfreeze
from .tables import SELECTION_FORM, MessageTable

ALERTS_PER_PAGE = 20


@require_http_methods(["GET", "HEAD"])
@member_required
def message_list(request):
    """Message Center: the member's messages, filtered, in the console's table and pager (a capped
    count: the inbox of a member of a big reseller holds a million messages)."""
    filterset = MessageFilter(request.GET or None, queryset=selectors.inbox(member=request.member))
    empty_text = gettext("No messages shown: correct the filters marked above.") if filterset.errors else None
    table = MessageTable(filterset.qs, empty_text=empty_text)
    table.searched = filterset.searched()
    table = configure_table(request, table, paginator_class=CappedCountPaginator)
    context = {"nav": "messages", "filter": filterset, "table": table, "selection_form": SELECTION_FORM}
    return render_fragment(request, "notifications/message_list.html", context, fragments=("message-table",))


def _back_to_messages(request):
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/messages/") else "/messages/")


# Marking read changes only the member's own inbox, so read-only members may do it too.
@require_POST
@member_required
def message_read(request, message_id: int):
    try:
        services.message_mark_read(member=request.member, message_id=message_id)
    except NotFound:
        raise Http404(gettext("This message is not in your Message Center.")) from None
    return _back_to_messages(request)


@require_POST
@member_required
def messages_read(request):
    """Mark the selected messages read (the table's checkboxes)."""
    try:
        count = services.messages_mark_read(member=request.member, message_ids=request.POST.getlist("ids"))
    except DomainError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, ngettext("Marked %(count)d message read.", "Marked %(count)d messages read.", count)
                      % {"count": count})
    return _back_to_messages(request)


@require_POST
@member_required
def messages_read_all(request):
    count = services.messages_mark_all_read(member=request.member)
    flash.success(request, ngettext("Marked %(count)d message read.", "Marked %(count)d messages read.", count)
                  % {"count": count})
    return _back_to_messages(request)


@require_GET
def bell(request):
    """The bell's count, which every console page polls (templates/notifications/_bell.html), and
    its menu of the newest messages, loaded when it opens (?part=menu).

    Polling rather than server-sent events: the count only has to be as fresh as alerts are
    frequent (at most a few a day per customer), a poll is one capped count on a partial index,
    and the app serves from synchronous workers, where an event stream would hold a worker for
    every open console page. Signed out (or no longer a member of a reseller), the poll gets 286,
    which tells htmx to stop polling: following the sign-in redirect would put the sign-in page
    into the bell."""
    if not request.user.is_authenticated or membership_of(request.user) is None:
        return HttpResponse(status=286)
    return _bell(request)


@member_required
def _bell(request):
    if request.GET.get("part") == "menu":
        context = {"latest": selectors.latest_messages(member=request.member)}
        return render(request, "notifications/_bell.html#bell-menu", context)
    return render(request, "notifications/_bell.html#bell-count", {})


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def alert_settings(request):
    member, reseller = request.member, request.reseller
    is_admin = member.role == Member.Role.ADMIN
    reseller_form = ResellerAlertSettingsForm(instance=reseller)
    zone_form = TimeZoneForm(initial={"time_zone": reseller.time_zone})
    members = list(selectors.members_with_channels(reseller=reseller))
    editable = {m.pk for m in members if is_admin or m.pk == member.pk}
    channel_forms = {
        m.pk: MemberChannelsForm(
            prefix=f"member-{m.pk}",
            initial={"phone": m.phone, "alert_email": m.alert_email, "alert_sms": m.alert_sms, "alert_inbox": m.alert_inbox},
        )
        for m in members
    }
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "reseller":
            if not is_admin:
                raise PermissionDenied(gettext("Only an admin can change the reseller-wide alert settings."))
            reseller_form = ResellerAlertSettingsForm(request.POST, instance=reseller)
            if reseller_form.is_valid():
                try:
                    services.reseller_alert_settings_update(member=member, **reseller_form.cleaned_data)
                except DomainError as error:
                    error.add_to(reseller_form)
                else:
                    flash.success(request, gettext("Alert settings saved."))
                    return redirect("/settings/")
            else:
                reseller.refresh_from_db()
        elif which == "time_zone":
            if not is_admin:
                raise PermissionDenied("Only an admin can change the time zone.")
            zone_form = TimeZoneForm(request.POST)
            if zone_form.is_valid():
                try:
                    reseller_time_zone_update(member=member, time_zone=zone_form.cleaned_data["time_zone"])
                except DomainError as error:
                    error.add_to(zone_form)
                else:
                    flash.success(request, gettext("Time zone saved: times are now shown in %(zone)s.")
                                  % {"zone": zone_form.cleaned_data["time_zone"]})
                    return redirect("/settings/")
        elif which == "member":
            try:
                target_id = int(request.POST.get("member", ""))
            except ValueError:
                raise Http404(gettext("No such member.")) from None
            target = next((m for m in members if m.pk == target_id), None)
            if target is None:
                raise Http404(gettext("No such member."))
            if target.pk not in editable:
                raise PermissionDenied(gettext("Only an admin can change another member's alert channels."))
            form = MemberChannelsForm(request.POST, prefix=f"member-{target.pk}")
            channel_forms[target.pk] = form
            if form.is_valid():
                try:
                    services.member_alert_channels_update(actor=member, member=target, **form.cleaned_data)
                except NotPermitted as error:
                    raise PermissionDenied(error.message) from None
                except DomainError as error:
                    error.add_to(form)
                else:
                    flash.success(request, gettext("Alert channels of %(name)s saved") % {"name": target.user.get_username()} + ".")
                    return redirect("/settings/")
        else:
            raise Http404(gettext("Unknown settings form."))
    rows = [(m, channel_forms[m.pk], m.pk in editable) for m in members]
    return render(
        request,
        "notifications/settings.html",
        {"nav": "settings", "reseller_form": reseller_form, "zone_form": zone_form, "is_admin": is_admin,
         "member_rows": rows},
        status=200,
    )


@require_http_methods(["GET", "HEAD"])
@member_required
def customer_alerts(request, uin: int):
    customer = customer_selectors.customer_get(reseller=request.reseller, uin=uin)
    page = Paginator(
        selectors.customer_alert_history(reseller=request.reseller, customer=customer), ALERTS_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/customer_alerts.html",
        {
            "nav": "customers", "customer": customer, "page": page, "can_write": request.member.can_allocate,
            "customer_channels": selectors.customer_alert_channels(reseller=request.reseller, customer=customer),
        },
    )



@require_http_methods(["GET", "POST"])
@member_required(write=True)
def custom_warning(request, uin: int):
    customer = customer_selectors.customer_get(reseller=request.reseller, uin=uin)

    def message(data):
        percent = data["percent"]
        if percent is None:
            return gettext("Custom warning switched off")
        return gettext("Custom warning set to %(percent)s%%") % {"percent": percent}

    return customer_form_modal(
        request, customer=customer, form_class=CustomWarningForm, initial={"percent": customer.custom_warning_percent},
        save=lambda data: services.custom_warning_set(member=request.member, customer=customer, percent=data["percent"]),
        message=message, template="notifications/custom_warning.html",
        redirect_to=f"/customers/{customer.uin}/alerts/",
    )


@require_http_methods(["GET", "POST"])
@member_required(write=True)
def customer_channels(request, uin: int):
    customer = customer_selectors.customer_get(reseller=request.reseller, uin=uin)
    return customer_form_modal(
        request, customer=customer, form_class=CustomerChannelsForm,
        initial={"alert_email": customer.alert_email, "alert_sms": customer.alert_sms, "alert_inbox": customer.alert_inbox,
                 "language": customer.language},
        save=lambda data: services.customer_alert_channels_update(member=request.member, customer=customer, **data),
        message=gettext("Alert channels of %(name)s saved") % {"name": customer.name}, template="notifications/customer_channels.html",
        redirect_to=f"/customers/{customer.uin}/alerts/", context={"reseller": request.reseller},
    )


@require_http_methods(["GET", "POST"])
@member_required(write=True)
def customer_freeze(request, uin: int):
    """Freeze or unfreeze the customer (whichever it is not), after a confirmation that says what
    it does. Unfreezing below zero is refused in the dialog and changes nothing."""
    customer = customer_selectors.customer_get(reseller=request.reseller, uin=uin)
    frozen = customer.frozen
    change = unfreeze if frozen else freeze

    def save(data):
        change(reseller=request.reseller, customer=customer, actor=request.user,
               actor_name=request.user.get_username())

    return customer_form_modal(
        request, customer=customer, form_class=ConfirmForm, initial={}, save=save,
        message=gettext("Customer unfrozen") if frozen else gettext("Customer frozen"),
        template="notifications/customer_freeze.html", redirect_to="/customers/",
        context={"frozen": frozen, "suspension_rule": request.reseller.suspension_allowlisted},
    )
