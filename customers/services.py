"""Writes for members and customers (a reseller is created with its pool: credits.services.reseller_create)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import InvalidValue, NotPermitted
from core.inputs import text_clean, uin_or_none, uin_rule
from core.timezones import time_zone_names

from .models import Customer, CustomerBalance, Member, Reseller


def member_create(*, reseller: Reseller, username: str, password: str, role: str = Member.Role.OPERATOR, email: str = "") -> Member:
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email)
        return Member.objects.create(user=user, reseller=reseller, role=role)


def language_checked(language: str) -> str:
    """A member's or a customer's language: one of settings.LANGUAGES, else the refusal saying which."""
    allowed = dict(settings.LANGUAGES)
    if language not in allowed:
        raise InvalidValue(
            gettext("Unknown language %(language)s: use one of %(allowed)s.")
            % {"language": repr(language), "allowed": ", ".join(allowed)},
            field="language",
        )
    return language


def member_language_set(*, member: Member, language: str) -> Member:
    """The language the member reads the console, its e-mails and its SMS in (any role may pick
    its own)."""
    language = language_checked(language)
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(language=language)
    member.language = language
    return member


def _field_max(name: str) -> int:
    return Customer._meta.get_field(name).max_length


def customer_create(
    *,
    reseller: Reseller,
    uin: int,
    name: str,
    email: str = "",
    phone: str = "",
    remark: str = "",
    identity_type: str = Customer.IdentityType.ENTERPRISE,
    bound_at=None,
) -> Customer:
    """Bind a new customer, with its balance (credit 0, used 0), to the reseller. UINs are unique platform-wide. Text
    longer than its column is refused with the limit, never cut short (as remark_clean does)."""
    name = text_clean(name, label=gettext("customer's name"), limit=_field_max("name"), field="name", required=True)
    uin = uin_or_none(uin)
    if uin is None:
        raise InvalidValue(gettext("Enter a valid UIN: %(rule)s.") % {"rule": uin_rule()}, field="uin")
    email = text_clean(email, label=gettext("e-mail address"), limit=_field_max("email"), field="email")
    phone = text_clean(phone, label=gettext("phone number"), limit=_field_max("phone"), field="phone")
    remark = remark_clean(remark)
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                reseller=reseller,
                uin=uin,
                name=name,
                email=email,
                phone=phone,
                remark=remark,
                identity_type=identity_type,
                bound_at=bound_at or timezone.now(),
            )
            CustomerBalance.objects.create(customer=customer, reseller=reseller)
            return customer
    except IntegrityError as exc:
        if Customer.objects.filter(uin=uin).exists():
            raise InvalidValue(
                gettext("UIN %(uin)s is already bound to a reseller.") % {"uin": uin}, field="uin"
            ) from exc
        raise


# The column that backs a remark, of a customer or of an allocation record.
REMARK_MAX = 255


def remark_clean(remark: str) -> str:
    """A remark (customer or allocation record) stripped, or refused when it cannot be stored or is
    longer than the 255-character column that backs it."""
    return text_clean(
        remark, label=gettext("remark"), limit=REMARK_MAX, field="remark",
        too_long_code="InvalidParameterValue.RemarkTooLong",
    )


def customer_remark_update(*, customer: Customer, remark: str) -> Customer:
    remark = remark_clean(remark)
    Customer.objects.filter(pk=customer.pk).update(remark=remark)
    customer.remark = remark
    return customer


def reseller_time_zone_update(*, member: Member, time_zone: str) -> Reseller:
    """The reseller's time zone (DESIGN §9): every time in its console, CSV exports and API answers
    is shown in it, and its alert days follow it. Admins only; an IANA name this machine knows."""
    if member.role != Member.Role.ADMIN:
        raise NotPermitted(gettext("Only an admin of your account can change its time zone."))
    time_zone = (time_zone or "").strip()
    if time_zone not in time_zone_names():
        raise InvalidValue(
            gettext("“%(value)s” is not a time zone. Choose an IANA name such as Asia/Shanghai, Europe/Berlin or UTC.")
            % {"value": time_zone[:64]},
            field="time_zone",
        )
    with transaction.atomic():
        Reseller.objects.filter(pk=member.reseller_id).update(time_zone=time_zone)
    reseller = member.reseller
    reseller.time_zone = time_zone
    reseller.__dict__.pop("zone", None)
    return reseller
