"""Who is alerted by which channel: the reseller-wide settings, a member's own channels, a
customer's channels, and the customer's custom balance warning."""

from django.db import transaction
from django.utils.translation import gettext

from core.errors import CustomerNotBound, InvalidValue, NotFound, NotPermitted
from customers.models import Customer, Member, Reseller
from customers.services import language_checked

from .evaluation import customer_evaluation_enqueue


def _require_writer(member: Member) -> None:
    if member.role == Member.Role.VIEWER:
        raise NotPermitted(gettext("Read-only members cannot change this."))


def reseller_alert_settings_update(
    *,
    member: Member,
    contact_email: str,
    contact_phone: str,
    contact_alert_email: bool,
    contact_alert_sms: bool,
    customer_alerts_enabled: bool,
    customer_alert_email: bool,
    customer_alert_sms: bool,
    customer_alert_inbox: bool,
) -> Reseller:
    """Reseller-wide alert settings: admins only."""
    if member.role != Member.Role.ADMIN:
        raise NotPermitted(gettext("Only an admin of your account can change the reseller-wide alert settings."))
    contact_phone = (contact_phone or "").strip()
    if contact_phone and not _phone_ok(contact_phone):
        raise InvalidValue(gettext("Enter the phone number in international form, such as +6580001111."), field="contact_phone")
    fields = {
        "contact_email": (contact_email or "").strip(),
        "contact_phone": contact_phone,
        "contact_alert_email": bool(contact_alert_email),
        "contact_alert_sms": bool(contact_alert_sms),
        "customer_alerts_enabled": bool(customer_alerts_enabled),
        "customer_alert_email": bool(customer_alert_email),
        "customer_alert_sms": bool(customer_alert_sms),
        "customer_alert_inbox": bool(customer_alert_inbox),
    }
    Reseller.objects.filter(pk=member.reseller_id).update(**fields)
    reseller = member.reseller
    for name, value in fields.items():
        setattr(reseller, name, value)
    return reseller


def _phone_ok(phone: str) -> bool:
    digits = phone[1:] if phone.startswith("+") else phone
    return phone.startswith("+") and digits.isdigit() and 6 <= len(digits) <= 15


def member_alert_channels_update(
    *, actor: Member, member: Member, phone: str, alert_email: bool, alert_sms: bool, alert_inbox: bool
) -> Member:
    """A member changes their own channels; an admin may change any member of the same reseller."""
    if member.reseller_id != actor.reseller_id:
        raise NotFound(gettext("This member is not in your account."))
    if member.pk != actor.pk and actor.role != Member.Role.ADMIN:
        raise NotPermitted(gettext("Only an admin can change another member's alert channels."))
    phone = (phone or "").strip()
    if phone and not _phone_ok(phone):
        raise InvalidValue(gettext("Enter the phone number in international form, such as +6580001111."), field="phone")
    if alert_sms and not phone:
        raise InvalidValue(gettext("Enter a phone number to receive SMS alerts."), field="phone")
    fields = {"phone": phone, "alert_email": bool(alert_email), "alert_sms": bool(alert_sms), "alert_inbox": bool(alert_inbox)}
    Member.objects.filter(pk=member.pk).update(**fields)
    for name, value in fields.items():
        setattr(member, name, value)
    return member


def customer_alert_channels_update(
    *, member: Member, customer: Customer, alert_email: bool, alert_sms: bool, alert_inbox: bool,
    language: str | None = None,
) -> Customer:
    """Switch the customer's own alert channels on or off (operators and admins). A channel the
    customer has no address for stays unused whatever its switch says. `language`: the language of
    its e-mails, SMS and Message Center texts (one of settings.LANGUAGES); None or empty keeps it."""
    _require_writer(member)
    if customer.reseller_id != member.reseller_id:
        raise CustomerNotBound()
    fields = {"alert_email": bool(alert_email), "alert_sms": bool(alert_sms), "alert_inbox": bool(alert_inbox)}
    if language:
        fields["language"] = language_checked(language)
    Customer.objects.filter(pk=customer.pk).update(**fields)
    for name, value in fields.items():
        setattr(customer, name, value)
    return customer


def custom_warning_set(*, member: Member, customer: Customer, percent: int | None) -> Customer:
    """Set (0–100, % of credit that must stay available) or clear (None) the customer's custom
    balance warning, then evaluate the customer after commit. The CHECK constraint backs 0–100."""
    _require_writer(member)
    if customer.reseller_id != member.reseller_id:
        raise CustomerNotBound()
    if percent is not None:
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise InvalidValue(gettext("The custom warning is a whole percentage from 0 to 100."), field="percent")
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(custom_warning_percent=percent)
        customer_evaluation_enqueue(customer.pk)
    customer.custom_warning_percent = percent
    return customer


def customer_notification_settings_update(
    *, customer: Customer, wants_email: bool, wants_sms: bool, wants_inbox: bool, credit_notification_percent,
) -> Customer:
    """The customer's own notification settings, from its portal: its channel switches (the
    reseller's switches still apply on top) and its credit notification, a whole percentage 0–100
    of credit that must stay available, or None for none; then the customer is evaluated after
    commit. The CHECK constraint backs 0–100."""
    percent = credit_notification_percent
    if percent is not None and (isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100):
        raise InvalidValue(
            gettext("The credit notification is a whole percentage from 0 to 100 (or empty for none)."),
            field="credit_notification_percent",
        )
    fields = {"wants_email": bool(wants_email), "wants_sms": bool(wants_sms), "wants_inbox": bool(wants_inbox),
              "credit_notification_percent": percent}
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(**fields)
        customer_evaluation_enqueue(customer.pk)
    for name, value in fields.items():
        setattr(customer, name, value)
    return customer
