"""The pages composed from several apps (the Overview, sign-in) and the root URL. They sit above
every app (see .importlinter): they may import any of them, and no app imports them."""

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views import defaults, i18n as django_i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from api import endpoint as api_endpoint, selectors as api_selectors, services as api_services
from console.access import is_customer_login, member_required
from console.export import stream_csv
from console.htmx import htmx_target, render_fragment
from console.tables import CappedCountPaginator
from core.errors import DomainError
from core.money import format_money
from core.timezones import format_time
from credits import selectors as credit_selectors
from credits.forms import PoolApplicationForm
from credits.models import PayMode
from credits.services import pool_application_submit, reseller_today
from customers import selectors as customer_selectors
from customers.services import customer_language_set, member_language_set
from notifications import selectors as notification_selectors
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
    """The user menu's language switch, the console's and the portal's: Django's set_language (the
    cookie, then back to the page), and for a signed-in member or customer the language stored on it
    too, so that it follows it to another browser and its e-mails and SMS are written in it."""
    user = request.user if request.user.is_authenticated else None
    member = getattr(user, "member", None)
    login = getattr(user, "customer_login", None)
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES):
        if member is not None:
            member_language_set(member=member, language=language)
        elif login is not None and login.customer is not None:
            customer_language_set(customer=login.customer, language=language)
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


def overview_charts(request, *, allocated=None) -> dict:
    """The Overview's charts a reseller acts on (DESIGN §8), each with its data island and table.
    `allocated`: the pool's allocated figure the page's summary shows, which today's point is."""
    reseller = request.reseller
    today = reseller_today(reseller)
    allocated = credit_selectors.pool_allocated_history(reseller=reseller, today=today, allocated=allocated)
    bands = credit_selectors.usage_band_counts(reseller=reseller)
    spenders = credit_selectors.top_spenders(reseller=reseller, today=today)
    return {
        "can_write": request.member.can_allocate,
        "allocated": allocated,
        "allocated_data": credit_selectors.chart_data(
            [day.isoformat() for day, _ in allocated], {gettext("Allocated"): [a for _, a in allocated]}, x_label=gettext("Day"),
            time=True),
        "bands": bands,
        "bands_data": credit_selectors.chart_data([label for label, _ in bands], {gettext("Customers"): [n for _, n in bands]},
                                                 x_label=gettext("Usage")),
        "spenders": spenders,
        "spenders_data": credit_selectors.chart_data(
            [f"{c.name} ({c.uin})" for c, _ in spenders], {gettext("Spent in 7 days"): [s for _, s in spenders]},
            x_label=gettext("Customer")),
        "running_out": credit_selectors.running_out(reseller=reseller),
        "runs_out_days": credit_selectors.RUNS_OUT_SOON_DAYS,
    }


@require_http_methods(["GET", "HEAD"])
@member_required
def overview(request):
    context = overview_context(request)
    return render(request, "overview.html", {**context, **overview_charts(request, allocated=context["summary"]["allocated"])})


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


CHARGES_PER_PAGE = 20


def _range_days(request) -> tuple[int, str]:
    """The chart's range from ?days=, with an error naming the allowed ones (then 30 days)."""
    raw = request.GET.get("days", "")
    if raw in {str(d) for d in credit_selectors.SPEND_RANGES}:
        return int(raw), ""
    error = "" if raw == "" else gettext("The range %(value)s is not one of %(allowed)s days; showing 30 days.") % {
        "value": raw[:20], "allowed": ", ".join(str(d) for d in credit_selectors.SPEND_RANGES)}
    return credit_selectors.SPEND_RANGES[0], error


def _charge_filters(request) -> tuple[str, str, str]:
    product = request.GET.get("product", "").strip()[:100]
    pay_mode = request.GET.get("pay_mode", "")
    if pay_mode and pay_mode not in PayMode.values:
        return product, "", gettext("The pay mode %(value)s is not one of %(allowed)s.") % {
            "value": pay_mode[:20], "allowed": ", ".join(PayMode.values)}
    return product, pay_mode, ""


def _spend_rows(spend) -> str:
    """The daily spend table's rows, written here rather than by the template: a year is 365 rows of
    several money cells, which cost the template engine tens of milliseconds. Every value in them is
    a date or an amount (nothing to escape)."""
    return mark_safe("".join(
        f'<tr><th scope="row">{day.isoformat()}</th>'
        + "".join(f'<td class="num">{format_money(amount)}</td>' for amount in amounts)
        + f'<td class="num">{format_money(total)}</td></tr>\n'
        for day, amounts, total in spend.rows))


# The parts of the customer page a change to the customer refreshes (each listens for the
# customer's own event, customers.modals.customer_updated, and creditAllocated): they need only
# customer_summary_context, not the chart, records and charges.
SUMMARY_FRAGMENTS = ("customer-actions", "customer-figures", "customer-status")


def customer_summary_context(request, customer) -> dict:
    """The customer page's actions, figures and account status timeline."""
    today = reseller_today(request.reseller)
    balance = customer.balance
    run_out = None
    if balance.days_to_zero is not None:
        run_out = today + timedelta(days=int(min(balance.days_to_zero, 36500)))
    return {
        "nav": "customers", "customer": customer, "balance": balance, "can_write": request.member.can_allocate,
        "today": today, "run_out": run_out, "events": customer_selectors.status_events(customer=customer),
    }


def customer_page_context(request, customer) -> dict:
    reseller = request.reseller
    context = customer_summary_context(request, customer)
    days, range_error = _range_days(request)
    spend = credit_selectors.daily_spend(customer=customer, today=context["today"], days=days)
    product, pay_mode, filter_error = _charge_filters(request)
    charges = CappedCountPaginator(
        credit_selectors.usage_charges(reseller=reseller, customer=customer, product=product, pay_mode=pay_mode),
        CHARGES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return {
        **context, "days": days, "ranges": credit_selectors.SPEND_RANGES,
        "range_error": range_error, "spend": spend, "chart_data": spend.as_chart_data(), "spend_rows": _spend_rows(spend),
        "records": credit_selectors.latest_allocations(reseller=reseller, customer=customer, limit=10),
        "repayments": credit_selectors.latest_repayments(customer=customer),
        "charges": charges, "products": credit_selectors.usage_products(customer=customer),
        "pay_modes": PayMode.choices, "product": product, "pay_mode": pay_mode, "filter_error": filter_error,
        "charge_query": urlencode({k: v for k, v in (("product", product), ("pay_mode", pay_mode)) if v}),
        "alerts": list(notification_selectors.customer_alert_history(reseller=reseller, customer=customer)[:10]),
    }


@require_http_methods(["GET", "HEAD"])
@member_required
def customer_page(request, uin: int):
    """A customer's page (DESIGN §8): its figures and account status (DESIGN §4) with its timeline,
    daily spend, burn rate and run-out date, records, repayments, usage charges and alerts, and the
    actions on it (Freeze / Unfreeze among them). Composed from credits, notifications and customers."""
    customer = customer_selectors.customer_get(reseller=request.reseller, uin=uin)
    if htmx_target(request) in SUMMARY_FRAGMENTS:
        context = customer_summary_context(request, customer)
    else:
        context = customer_page_context(request, customer)
    return render_fragment(request, "customer_page.html", context, fragments=(*SUMMARY_FRAGMENTS, "usage-charges"))


@require_http_methods(["GET", "HEAD"])
@member_required
def customer_usage_export(request, uin: int):
    """The customer's usage charges as CSV, with the page's filters."""
    customer = customer_selectors.customer_get(reseller=request.reseller, uin=uin)
    product, pay_mode, _ = _charge_filters(request)
    rows = (credit_selectors.usage_charges(reseller=request.reseller, customer=customer, product=product,
                                           pay_mode=pay_mode)
            .values_list("incurred_at", "created_at", "external_id", "product", "region", "pay_mode", "instance_id",
                         "amount", "description").iterator(chunk_size=2000))
    header = ["Incurred at", "Recorded at", "External id", "Product", "Region", "Pay mode", "Instance id",
              "Amount (USD)", "Description"]
    zone = request.reseller.zone  # the rows are written after the request's zone is deactivated
    return stream_csv(
        f"usage-{customer.uin}.csv", header,
        ([format_time(incurred, zone=zone, seconds=True), format_time(recorded, zone=zone, seconds=True), external_id, product_, region,
          mode, instance, f"{amount:.2f}", description]
         for incurred, recorded, external_id, product_, region, mode, instance, amount, description in rows),
    )


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
