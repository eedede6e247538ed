"""Writes for members and customers (a reseller is created with its pool: credits.services.reseller_create)."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import InvalidValue
from core.inputs import text_problem, uin_or_none, uin_rule

from .models import Customer, Member, Reseller


def member_create(*, reseller: Reseller, username: str, password: str, role: str = Member.Role.OPERATOR, email: str = "") -> Member:
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email)
        return Member.objects.create(user=user, reseller=reseller, role=role)


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
    """Bind a new customer (credit 0, used 0) to the reseller. UINs are unique platform-wide."""
    name = (name or "").strip()
    if not name:
        raise InvalidValue("The customer needs a name.", field="name")
    uin = uin_or_none(uin)
    if uin is None:
        raise InvalidValue(gettext("Enter a valid UIN: %(rule)s.") % {"rule": uin_rule()}, field="uin")
    try:
        with transaction.atomic():
            return Customer.objects.create(
                reseller=reseller,
                uin=uin,
                name=name,
                email=email,
                phone=phone,
                remark=remark[:255],
                identity_type=identity_type,
                bound_at=bound_at or timezone.now(),
            )
    except IntegrityError as exc:
        if Customer.objects.filter(uin=uin).exists():
            raise InvalidValue(f"UIN {uin} is already bound to a reseller.", field="uin") from exc
        raise


REMARK_MAX = 255


def remark_clean(remark: str) -> str:
    """A remark (customer or allocation record) stripped, or refused when longer than the
    255-character column that backs it."""
    remark = (remark or "").strip()
    problem = text_problem(remark)
    if problem:
        raise InvalidValue(gettext("The remark is refused: %(problem)s.") % {"problem": problem}, field="remark")
    if len(remark) > REMARK_MAX:
        raise InvalidValue(
            f"The remark is {len(remark)} characters long; it can be at most {REMARK_MAX}.",
            code="InvalidParameterValue.RemarkTooLong",
            field="remark",
        )
    return remark


def customer_remark_update(*, customer: Customer, remark: str) -> Customer:
    remark = remark_clean(remark)
    Customer.objects.filter(pk=customer.pk).update(remark=remark)
    customer.remark = remark
    return customer
