"""customers.services: members, customers and remarks (the happy path, each refusal, and nothing
written after a refusal)."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from core.errors import InvalidValue
from core.inputs import UIN_MAX
from customers.models import Customer, Member
from customers.services import customer_create, customer_remark_update, member_create, remark_clean
from tests.factories import CustomerFactory, ResellerFactory

pytestmark = pytest.mark.django_db


def test_member_create_makes_a_user_who_can_sign_in_with_its_role(reseller):
    member = member_create(reseller=reseller, username="ops-lead", password="a-long-password", role="admin",
                           email="lead@reseller.example")
    member = Member.objects.select_related("user").get(pk=member.pk)
    assert (member.reseller, member.role, member.user.email) == (reseller, "admin", "lead@reseller.example")
    assert member.user.check_password("a-long-password") and member.can_allocate
    assert member_create(reseller=reseller, username="reader", password="pw-reader-123", role="viewer").can_allocate is False


def test_customer_create_binds_a_new_customer_with_nothing_allocated_or_used(reseller):
    before = timezone.now()
    customer = customer_create(reseller=reseller, uin=" 700000000123 ", name="  Harbor Games ",
                               email="billing@harbor.example", phone="+6590001234", remark="VIP",
                               identity_type=Customer.IdentityType.PERSONAL)
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.reseller, customer.uin, customer.name) == (reseller, 700000000123, "Harbor Games")
    assert (customer.email, customer.phone, customer.remark, customer.identity_type) == (
        "billing@harbor.example", "+6590001234", "VIP", "personal")
    assert (customer.credit, customer.used, customer.available, customer.usage_band) == (0, 0, 0, 0)
    assert customer.account_status == "normal" and customer.bound_at >= before


def test_customer_create_keeps_a_given_binding_time(reseller):
    bound_at = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    customer = customer_create(reseller=reseller, uin=700000000124, name="Old Friend", bound_at=bound_at)
    assert Customer.objects.get(pk=customer.pk).bound_at == bound_at


@pytest.mark.parametrize("name", ["", "   ", None])
def test_a_customer_needs_a_name(reseller, name):
    with pytest.raises(InvalidValue) as refused:
        customer_create(reseller=reseller, uin=700000000125, name=name)
    assert (refused.value.field, refused.value.message) == ("name", "The customer's name is required.")
    assert not Customer.objects.exists()


@pytest.mark.parametrize("uin", [0, -1, "abc", "", "12.5", "１２３", "²", UIN_MAX + 1, True, None])
def test_a_customer_needs_a_uin(reseller, uin):
    with pytest.raises(InvalidValue) as refused:
        customer_create(reseller=reseller, uin=uin, name="Harbor Games")
    assert refused.value.field == "uin"
    assert refused.value.message.startswith("Enter a valid UIN: a UIN is a positive integer of digits 0-9")
    assert not Customer.objects.exists()


def test_a_uin_bound_to_any_reseller_is_refused(reseller):
    theirs = CustomerFactory(reseller=ResellerFactory())
    with pytest.raises(InvalidValue) as refused:
        customer_create(reseller=reseller, uin=str(theirs.uin), name="Someone Else")
    assert (refused.value.field, refused.value.message) == ("uin", f"UIN {theirs.uin} is already bound to a reseller.")
    assert list(Customer.objects.values_list("uin", "reseller")) == [(theirs.uin, theirs.reseller_id)]


def test_remark_clean_strips_and_takes_up_to_255_characters():
    assert remark_clean("  gold  ") == "gold"
    assert remark_clean(None) == ""
    assert remark_clean("r" * 255) == "r" * 255


@pytest.mark.parametrize(("remark", "code", "message"), [
    ("r" * 256, "InvalidParameterValue.RemarkTooLong", "The remark is 256 characters long; it can be at most 255."),
    ("a\x00b", "InvalidParameterValue", "The remark is refused: it contains a NUL character"),
    ("a\ud800b", "InvalidParameterValue", "The remark is refused: it contains a lone surrogate"),
])
def test_remark_clean_refuses_what_cannot_be_stored(remark, code, message):
    with pytest.raises(InvalidValue) as refused:
        remark_clean(remark)
    assert (refused.value.code, refused.value.field) == (code, "remark")
    assert refused.value.message.startswith(message)


def test_customer_remark_update_writes_the_cleaned_remark(reseller):
    customer = CustomerFactory(reseller=reseller, remark="old")
    returned = customer_remark_update(customer=customer, remark="  Key account ")
    assert returned.remark == "Key account" and Customer.objects.get(pk=customer.pk).remark == "Key account"


def test_a_refused_remark_changes_nothing(reseller):
    customer = CustomerFactory(reseller=reseller, remark="old")
    with pytest.raises(InvalidValue):
        customer_remark_update(customer=customer, remark="r" * 256)
    assert customer.remark == "old" and Customer.objects.get(pk=customer.pk).remark == "old"
