"""The pages composed from several apps (the Overview, sign-in) and the root URL. They sit above
every app (see .importlinter): they may import any of them, and no app imports them."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views import defaults, i18n as django_i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from api import endpoint as api_endpoint, selectors as api_selectors, services as api_services
from console.access import is_customer_login, member_required
from console.htmx import render_fragment
from core.errors import DomainError
from core.money import format_money
from credits import selectors as credit_selectors
from credits.forms import PoolApplicationForm
from credits.services import pool_application_submit
from customers.services import member_language_set
from portal.access import customer_required
from portal.context import portal_context


class ConsoleSignInForm(AuthenticationForm):
    """The console's sign-in: a customer's portal login is refused here (it signs in at /portal/login/)."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if is_customer_login(user):
            raise ValidationError(
                gettext("This is the reseller console. Customers sign in to their portal at /portal/login/."),
                code="customer_login",
            )


class SignInView(LoginView):
    template_name = "registration/login.html"
    authentication_form = ConsoleSignInForm
    redirect_authenticated_user = True


@require_POST
def set_language(request):
    """The user menu's language switch: Django's set_language (the cookie, then back to the page),
    and for a signed-in member the language stored on it too, so that it follows the member to
    another browser and its e-mails and SMS are written in it."""
    member = getattr(request.user, "member", None) if request.user.is_authenticated else None
    language = request.POST.get("language", "")
    if member is not None and language in dict(settings.LANGUAGES):
        member_language_set(member=member, language=language)
    return django_i18n.set_language(request)


def overview_context(request, **extra) -> dict:
    reseller = request.reseller
    return {
        "nav": "overview",
        "summary": credit_selectors.pool_summary(reseller),
        "latest": credit_selectors.latest_allocations(reseller=reseller),
        "applications": credit_selectors.pool_applications(reseller=reseller),
        "application_form": PoolApplicationForm(),
        **extra,
    }


@require_http_methods(["GET", "HEAD"])
@member_required
def overview(request):
    return render(request, "overview.html", overview_context(request))


@require_POST
@member_required(write=True)
def pool_application_create(request):
    """Apply for customer credits: a pending application the platform operator approves in admin.
    The form is part of the Overview, which its errors re-render."""
    form = PoolApplicationForm(request.POST)
    submitted = None
    if form.is_valid():
        try:
            submitted = pool_application_submit(
                reseller=request.reseller, amount=form.cleaned_data["amount"], reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except DomainError as error:
            error.add_to(form)
    if submitted is not None and not request.htmx:
        messages.success(
            request,
            gettext("Application for %(amount)s USD submitted; your channel manager will review it.")
            % {"amount": format_money(submitted.amount)},
        )
        return redirect("/")
    context = overview_context(request, application_form=PoolApplicationForm() if submitted else form, submitted=submitted)
    return render_fragment(request, "overview.html", context, fragments=("pool-applications",))


@csrf_exempt
def root(request):
    """`/` is the console's Overview for a browser and, for POST, the Tencent-compatible API
    endpoint (the SDK always posts to the root path). The API authenticates by signature, not by
    session, so CSRF does not apply to it; the console never posts to `/`."""
    if request.method == "POST":
        return api_endpoint.endpoint(request)
    return overview(request)


def bad_request(request, exception):
    """handler400: a request Django refuses before any view (such as a Host header not in
    ALLOWED_HOSTS) still gets the API's envelope when it was sent to the API."""
    if api_endpoint.is_api_request(request):
        return api_endpoint.bad_request(request)
    return defaults.bad_request(request, exception)


# The customer's own API key, on its portal (portal and api are siblings that never import each
# other, so the page that uses both lives here). Its key answers only QueryCustomerBillingQuota.

@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def portal_api_keys(request):
    created = None
    if request.method == "POST":
        try:
            created = api_services.api_key_create(user=request.user, description="Customer portal")
        except DomainError as error:
            messages.error(request, error.message)
    keys = api_selectors.api_keys_visible_to(request.user)
    context = portal_context(request, nav="api", keys=keys, created=created[0] if created else None,
                             secret_key=created[1] if created else None)
    return render(request, "portal/api_keys.html", context)


@require_POST
@customer_required
def portal_api_key_delete(request, pk: int):
    key = get_object_or_404(api_selectors.api_keys_visible_to(request.user), pk=pk)
    api_services.api_key_delete(key=key, actor=request.user)
    messages.success(request, gettext("Key %(secret_id)s is deleted.") % {"secret_id": key.secret_id})
    return redirect("portal-api-keys")
