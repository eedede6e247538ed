import re
from decimal import Decimal

import pytest

from core.errors import (
    IdempotencyConflict,
    InsufficientPoolBalance,
    InvalidAmount,
    InvalidValue,
    NotFound,
    RepossessTooMuch,
)
from credits.models import AllocationRecord, CreditPool
from credits.services import credit_allocate, credit_allocate_check, pool_grant
from customers.models import Customer, CustomerBalance
from tests.factories import CustomerFactory, ResellerFactory, UserFactory

pytestmark = pytest.mark.django_db


def snapshot(reseller, customer):
    pool = CreditPool.objects.get(reseller=reseller)
    customer = Customer.objects.get(pk=customer.pk)
    return (pool.total, pool.remaining, customer.credit, customer.used, AllocationRecord.objects.count())


def set_used(customer, used):
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal(used))


@pytest.fixture
def customer(funded_reseller):
    return CustomerFactory(reseller=funded_reseller)


def test_allocate_moves_credit_from_pool_to_customer(funded_reseller, customer):
    user = UserFactory()
    record = credit_allocate(reseller=funded_reseller, customer=customer, amount="100.00", actor=user, remark="Top-up")
    pool = CreditPool.objects.get(reseller=funded_reseller)
    customer.refresh_from_db()
    assert customer.credit == Decimal("100.00")
    assert customer.available == Decimal("100.00")
    assert pool.remaining == Decimal("9900.00") and pool.total == Decimal("10000.00")
    assert record.amount == Decimal("100.00")
    assert (record.credit_after, record.available_after, record.pool_remaining_after) == (
        Decimal("100.00"), Decimal("100.00"), Decimal("9900.00"))
    assert record.operator == user and record.operator_name == user.username
    assert record.source == "console" and record.remark == "Top-up"
    assert record.kind == "allocate"


def test_repossess_returns_credit_to_pool(funded_reseller, customer):
    credit_allocate(reseller=funded_reseller, customer=customer, amount="100")
    set_used(customer, "30.00")
    record = credit_allocate(reseller=funded_reseller, customer=customer, amount="-50", source="api")
    customer.refresh_from_db()
    assert customer.credit == Decimal("50.00") and customer.available == Decimal("20.00")
    assert record.kind == "repossess" and record.available_after == Decimal("20.00")
    assert CreditPool.objects.get(reseller=funded_reseller).remaining == Decimal("9950.00")


def test_repossess_exactly_the_available_credit(funded_reseller, customer):
    credit_allocate(reseller=funded_reseller, customer=customer, amount="100")
    set_used(customer, "40.00")
    credit_allocate(reseller=funded_reseller, customer=customer, amount="-60.00")
    customer.refresh_from_db()
    assert customer.credit == Decimal("40.00") and customer.available == Decimal("0.00")


def test_repossess_one_cent_more_than_available_is_refused(funded_reseller, customer):
    credit_allocate(reseller=funded_reseller, customer=customer, amount="100")
    set_used(customer, "40.00")
    before = snapshot(funded_reseller, customer)
    with pytest.raises(RepossessTooMuch) as error:
        credit_allocate(reseller=funded_reseller, customer=customer, amount="-60.01")
    assert error.value.code == "InvalidParameterValue.CreditAmountOutOfRange"
    assert "must be not greater than the customer's available credit (60.00 USD)" in error.value.message
    assert snapshot(funded_reseller, customer) == before


def test_negative_available_has_nothing_to_repossess(funded_reseller, customer):
    credit_allocate(reseller=funded_reseller, customer=customer, amount="100")
    set_used(customer, "120.00")
    customer.refresh_from_db()
    assert customer.available == Decimal("-20.00") and customer.repossessable == Decimal("0.00")
    before = snapshot(funded_reseller, customer)
    with pytest.raises(RepossessTooMuch, match=r"\(0.00 USD\)"):
        credit_allocate(reseller=funded_reseller, customer=customer, amount="-0.01")
    assert snapshot(funded_reseller, customer) == before


def test_allocate_exactly_the_pool_remaining(funded_reseller, customer):
    credit_allocate(reseller=funded_reseller, customer=customer, amount="10000.00")
    assert CreditPool.objects.get(reseller=funded_reseller).remaining == Decimal("0.00")


def test_allocate_more_than_pool_remaining_is_refused(funded_reseller, customer):
    before = snapshot(funded_reseller, customer)
    with pytest.raises(InsufficientPoolBalance) as error:
        credit_allocate(reseller=funded_reseller, customer=customer, amount="10000.01")
    assert error.value.code == "FailedOperation.BalanceInsufficient"
    assert "remaining customer credit is 10,000.00 USD" in error.value.message
    assert snapshot(funded_reseller, customer) == before


@pytest.mark.parametrize("amount", ["0", "1.001", "abc", "", "NaN", "1e2", "9" * 30, "-" + "9" * 27])
def test_bad_amounts_are_refused_and_write_nothing(funded_reseller, customer, amount):
    before = snapshot(funded_reseller, customer)
    with pytest.raises(InvalidAmount):
        credit_allocate(reseller=funded_reseller, customer=customer, amount=amount)
    assert snapshot(funded_reseller, customer) == before


def test_per_operation_limit_is_configurable(settings, funded_reseller, customer):
    settings.CREDIT_MAX_PER_OPERATION = Decimal("50.00")
    with pytest.raises(InvalidAmount, match="50.00 USD per operation"):
        credit_allocate(reseller=funded_reseller, customer=customer, amount="50.01")
    credit_allocate(reseller=funded_reseller, customer=customer, amount="50.00")


# Issue 14, item 5: an amount over several limits is refused with the most specific one it breaks.
@pytest.mark.parametrize(("amount", "error", "message"), [
    ("-99999999", RepossessTooMuch, "customer's available credit (60.00 USD)"),
    ("-10000000.01", RepossessTooMuch, "customer's available credit (60.00 USD)"),
    ("999999999", InsufficientPoolBalance, "Your remaining customer credit is 9,900.00 USD; you cannot allocate 999,999,999.00 USD"),
    ("10000000.01", InsufficientPoolBalance, "Your remaining customer credit is 9,900.00 USD"),
    ("9" * 21, InvalidAmount, "must not exceed 10,000,000.00 USD per operation"),
    ("-99999999.001", InvalidAmount, "at most 2 decimal places"),
])
def test_the_most_specific_limit_is_the_one_refused(funded_reseller, customer, amount, error, message):
    credit_allocate(reseller=funded_reseller, customer=customer, amount="100.00")
    set_used(customer, "40.00")
    before = snapshot(funded_reseller, customer)
    with pytest.raises(error, match=re.escape(message)):
        credit_allocate(reseller=funded_reseller, customer=customer, amount=amount)
    assert snapshot(funded_reseller, customer) == before


def test_the_per_operation_limit_is_shown_when_it_is_the_smallest(settings, funded_reseller, customer):
    """A pool and an available credit above the per-operation limit: that limit is the one broken."""
    settings.CREDIT_MAX_PER_OPERATION = Decimal("50.00")
    credit_allocate(reseller=funded_reseller, customer=customer, amount="50.00")
    credit_allocate(reseller=funded_reseller, customer=customer, amount="50.00")
    before = snapshot(funded_reseller, customer)
    for amount in ("99999", "-99999", "-50.01"):
        with pytest.raises(InvalidAmount, match="50.00 USD per operation"):
            credit_allocate(reseller=funded_reseller, customer=customer, amount=amount)
    assert snapshot(funded_reseller, customer) == before


def test_the_check_before_a_repossession_states_the_amount_and_writes_nothing(funded_reseller, customer):
    credit_allocate(reseller=funded_reseller, customer=customer, amount="100.00")
    set_used(customer, "40.00")
    before = snapshot(funded_reseller, customer)
    assert credit_allocate_check(reseller=funded_reseller, customer=customer, amount="-60") == Decimal("-60.00")
    assert credit_allocate_check(reseller=funded_reseller, customer=customer, amount="9900") == Decimal("9900.00")
    with pytest.raises(RepossessTooMuch, match=re.escape("(60.00 USD)")):
        credit_allocate_check(reseller=funded_reseller, customer=customer, amount="-60.01")
    with pytest.raises(InsufficientPoolBalance):
        credit_allocate_check(reseller=funded_reseller, customer=customer, amount="9900.01")
    with pytest.raises(RepossessTooMuch):
        credit_allocate_check(reseller=funded_reseller, customer=customer, amount="-99999999")
    assert snapshot(funded_reseller, customer) == before


def test_long_remark_is_refused(funded_reseller, customer):
    before = snapshot(funded_reseller, customer)
    with pytest.raises(InvalidValue, match="at most 255") as error:
        credit_allocate(reseller=funded_reseller, customer=customer, amount="1", remark="x" * 256)
    assert error.value.field == "remark"
    assert snapshot(funded_reseller, customer) == before


def test_another_resellers_customer_is_refused(funded_reseller):
    stranger = CustomerFactory(reseller=ResellerFactory())
    before = snapshot(funded_reseller, stranger)
    with pytest.raises(NotFound) as error:
        credit_allocate(reseller=funded_reseller, customer=stranger, amount="1")
    assert error.value.code == "UnauthorizedOperation.UinNoAuth"
    assert snapshot(funded_reseller, stranger) == before


def test_repeated_idempotency_key_gives_one_record_and_one_change(funded_reseller, customer):
    first = credit_allocate(reseller=funded_reseller, customer=customer, amount="25", idempotency_key="req-1")
    again = credit_allocate(reseller=funded_reseller, customer=customer, amount="25.00", idempotency_key="req-1")
    assert again.pk == first.pk
    assert AllocationRecord.objects.count() == 1
    customer.refresh_from_db()
    assert customer.credit == Decimal("25.00")
    assert CreditPool.objects.get(reseller=funded_reseller).remaining == Decimal("9975.00")


@pytest.mark.parametrize("change", ["amount", "customer"])
def test_same_key_for_a_different_operation_is_refused(funded_reseller, customer, change):
    credit_allocate(reseller=funded_reseller, customer=customer, amount="25", idempotency_key="req-2")
    other = CustomerFactory(reseller=funded_reseller) if change == "customer" else customer
    amount = "26" if change == "amount" else "25"
    before = snapshot(funded_reseller, customer)
    with pytest.raises(IdempotencyConflict, match="already used for a different allocation"):
        credit_allocate(reseller=funded_reseller, customer=other, amount=amount, idempotency_key="req-2")
    assert snapshot(funded_reseller, customer) == before


def test_idempotency_keys_are_per_reseller(funded_reseller, customer):
    other_reseller = ResellerFactory()
    pool_grant(reseller=other_reseller, amount="100")
    other_customer = CustomerFactory(reseller=other_reseller)
    credit_allocate(reseller=funded_reseller, customer=customer, amount="5", idempotency_key="shared")
    credit_allocate(reseller=other_reseller, customer=other_customer, amount="5", idempotency_key="shared")
    assert AllocationRecord.objects.count() == 2


def test_records_chain_after_values(funded_reseller, customer):
    for amount in ["100", "-20", "35.55", "-0.55"]:
        credit_allocate(reseller=funded_reseller, customer=customer, amount=amount)
    records = list(AllocationRecord.objects.order_by("id"))
    credit = Decimal("0.00")
    for record in records:
        credit += record.amount
        assert record.credit_after == credit
    assert credit == Decimal("115.00")
