"""The customer's portal (DESIGN §7): its own sign-in, registration through an invitation, credit,
Message Center. Every page is scoped to the signed-in customer (portal.access.customer_required)."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.export import stream_csv
from core.errors import DomainError, NotFound
from credits import selectors as credit_selectors
from credits.services import reseller_today
from customers import services as customer_services
from customers.models import Invitation
from notifications import selectors as notification_selectors, services as notification_services

from . import selectors
from .access import customer_login_of, customer_required
from .context import portal_context
from .forms import NotificationSettingsForm, PortalPasswordResetForm, PortalSignInForm, RegistrationForm

MESSAGES_PER_PAGE = 30


class SignInView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = PortalSignInForm
    next_page = reverse_lazy("portal:home")

    def dispatch(self, request, *args, **kwargs):
        # A customer already signed in goes to its portal; anyone else sees the form.
        if customer_login_of(request.user) is not None:
            return redirect("portal:home")
        return super().dispatch(request, *args, **kwargs)


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")


# Password reset by e-mail: Django's views, for customer logins only, with the portal's templates.
class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm
    template_name = "portal/password_reset_form.html"
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password-reset-complete")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and customer_login_of(user) is not None else None


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"


@require_GET
@customer_required(bound=False)
def home(request):
    """The credit page (Tencent's customer "Credit Limit Management"); for a login still waiting for
    approval, or rejected, the state of its application."""
    if request.customer is None:
        application = selectors.login_application(login=request.customer_login)
        return render(request, "portal/application_status.html", {"application": application, "customer": None})
    customer = selectors.customer_credit(customer=request.customer)
    return render(request, "portal/credit.html", portal_context(request, nav="credit", figures=customer))


@require_GET
@customer_required
def message_list(request):
    page = Paginator(notification_selectors.customer_inbox(customer=request.customer), MESSAGES_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "portal/messages.html", portal_context(request, nav="messages", page=page))


@require_POST
@customer_required
def message_read(request, message_id: int):
    try:
        notification_services.customer_message_mark_read(customer=request.customer, message_id=message_id)
    except NotFound:
        raise Http404("Not one of your messages.") from None
    return redirect("portal:messages")


@require_POST
@customer_required
def messages_read_all(request):
    notification_services.customer_messages_mark_all_read(customer=request.customer)
    messages.success(request, _("All messages marked read."))
    return redirect("portal:messages")


@require_http_methods(["GET", "POST"])
def register(request, token: str):
    """The invitation link's page: register (name, e-mail, phone, password, type) and wait for
    approval. A used, revoked, expired or unknown link says so and changes nothing."""
    invitation = Invitation.objects.select_related("reseller").filter(
        token_digest=customer_services.token_digest(token)).first()
    problem = customer_services.invitation_problem(invitation)
    if problem:
        return render(request, "portal/register.html", {"problem": problem}, status=410 if invitation else 404)
    if request.method == "POST":
        form = RegistrationForm(request.POST)
        if form.is_valid():
            try:
                application = customer_services.application_register(
                    token=token, language=translation.get_language(), **form.cleaned_data)
            except DomainError as error:
                if isinstance(error, customer_services.InvitationUnusable):
                    return render(request, "portal/register.html", {"problem": error.message}, status=410)
                error.add_to(form)
            else:
                return render(request, "portal/registered.html", {"application": application})
    else:
        form = RegistrationForm(initial={"email": invitation.email})
    return render(request, "portal/register.html", {"form": form, "invitation": invitation,
                                                    "action": reverse("portal:register", args=[token])})


SETTINGS_FIELDS = ("wants_email", "wants_sms", "wants_inbox", "credit_notification_percent")


@require_http_methods(["GET", "POST"])
@customer_required
def notification_settings(request):
    """Its channel switches and its own credit notification (DESIGN §3)."""
    customer = selectors.customer_credit(customer=request.customer)
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            try:
                notification_services.customer_notification_settings_update(customer=customer, **form.cleaned_data)
            except DomainError as error:
                error.add_to(form)
            else:
                messages.success(request, _("Notification settings saved."))
                return redirect("portal:settings")
    else:
        form = NotificationSettingsForm(initial={name: getattr(customer, name) for name in SETTINGS_FIELDS})
    channels = notification_selectors.customer_alert_channels(reseller=customer.reseller, customer=customer)
    return render(request, "portal/settings.html",
                  portal_context(request, nav="settings", form=form, channels=channels, figures=customer))


USAGE_DAYS = 30


def _spend(customer):
    """The customer's daily rollups (kept by the ingestion), never a scan of its charges. The
    customer is request.customer: its reseller was read with the sign-in (partnercenter.auth)."""
    return credit_selectors.daily_spend(customer=customer, today=reseller_today(customer.reseller), days=USAGE_DAYS)


@require_GET
@customer_required
def usage(request):
    """Daily spend for the last 30 days by product: a stacked chart and, with the same figures, a
    table (newest day first) and CSV."""
    spend = _spend(request.customer)
    return render(request, "portal/usage.html", portal_context(
        request, nav="usage", spend=spend, rows=list(reversed(spend.rows)), chart_data=spend.as_chart_data(),
        days=USAGE_DAYS))


@require_GET
@customer_required
def usage_export(request):
    customer = request.customer
    spend = _spend(customer)
    rows = ([day.isoformat(), product or "—", str(amount)] for day, amounts, _ in spend.rows
            for product, amount in zip(spend.products, amounts) if amount)
    stamp = timezone.localdate(timezone=customer.reseller.zone).strftime("%Y%m%d")
    return stream_csv(f"usage-{customer.uin}-{stamp}.csv", [_("Date"), _("Product"), _("Amount (USD)")], rows)
