"""Confirmed repayments (DESIGN §2): they take the amount off `used`, never below zero, once per key."""

from decimal import Decimal
from functools import partial

import pytest

from core.errors import IdempotencyConflict, InvalidAmount, InvalidValue, NotFound
from credits.models import CreditPool, Repayment
from credits.services import credit_allocate, repayment_confirm
from customers.models import Customer, CustomerBalance
from tests.factories import CustomerFactory, ResellerFactory, UserFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(funded_reseller):
    customer = CustomerFactory(reseller=funded_reseller)
    credit_allocate(reseller=funded_reseller, customer=customer, amount="100.00")
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal("95.00"))
    customer.refresh_from_db()
    return customer


def state(customer):
    customer = Customer.objects.get(pk=customer.pk)
    pool = CreditPool.objects.get(reseller=customer.reseller)
    return customer.credit, customer.used, pool.remaining, Repayment.objects.count()


def test_a_repayment_returns_to_available_credit_and_leaves_credit_and_pool(funded_reseller, customer):
    user = UserFactory()
    before = state(customer)
    repayment = repayment_confirm(reseller=funded_reseller, customer=customer, amount="40.50", actor=user,
                                  remark="Invoice 2026-10", idempotency_key="k1")
    assert state(customer) == (before[0], Decimal("54.50"), before[2], 1)
    assert (repayment.amount, repayment.used_after, repayment.available_after) == (
        Decimal("40.50"), Decimal("54.50"), Decimal("45.50"))
    assert repayment.confirmed_by_name == user.get_username() and repayment.remark == "Invoice 2026-10"


def test_the_whole_used_amount_can_be_repaid_but_no_more(funded_reseller, customer):
    with pytest.raises(InvalidValue, match=r"at most what the customer has used \(95.00 USD\)") as refused:
        repayment_confirm(reseller=funded_reseller, customer=customer, amount="95.01", actor=None, idempotency_key="k1")
    assert refused.value.field == "amount"
    assert state(customer)[1:] == (Decimal("95.00"), CreditPool.objects.get(reseller=funded_reseller).remaining, 0)
    repayment_confirm(reseller=funded_reseller, customer=customer, amount="95.00", actor=None, idempotency_key="k2")
    assert state(customer)[1] == Decimal("0.00")


@pytest.mark.parametrize("amount", ["0", "-5", "1.005", "abc", ""])
def test_bad_amounts_are_refused_and_change_nothing(funded_reseller, customer, amount):
    before = state(customer)
    with pytest.raises(InvalidAmount):
        repayment_confirm(reseller=funded_reseller, customer=customer, amount=amount, actor=None, idempotency_key="k1")
    assert state(customer) == before


def test_another_resellers_customer_is_not_found(customer):
    with pytest.raises(NotFound):
        repayment_confirm(reseller=ResellerFactory(), customer=customer, amount="1.00", actor=None, idempotency_key="k1")
    assert state(customer)[1] == Decimal("95.00")


def test_a_repeated_key_confirms_once_and_a_different_use_is_refused(funded_reseller, customer):
    first = repayment_confirm(reseller=funded_reseller, customer=customer, amount="10.00", actor=None, idempotency_key="k1")
    again = repayment_confirm(reseller=funded_reseller, customer=customer, amount="10.00", actor=None, idempotency_key="k1")
    assert again.pk == first.pk and again.replayed
    assert state(customer)[1:] == (Decimal("85.00"), CreditPool.objects.get(reseller=funded_reseller).remaining, 1)
    with pytest.raises(IdempotencyConflict):
        repayment_confirm(reseller=funded_reseller, customer=customer, amount="20.00", actor=None, idempotency_key="k1")
    assert state(customer)[1] == Decimal("85.00")


def test_a_repayment_evaluates_the_customer_after_commit(funded_reseller, customer, enqueued):
    with enqueued() as sent:
        repayment_confirm(reseller=funded_reseller, customer=customer, amount="30.00", actor=None, idempotency_key="k1")
    assert sent == [("notifications.tasks.customer_evaluate", (customer.pk,))]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_repayments_never_take_used_below_zero(funded_reseller):
    customer = CustomerFactory(reseller=funded_reseller)
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal("50.00"))
    outcomes: list[str] = []

    def worker(index: int) -> None:
        for step in range(5):  # 8 x 5 x 2.00 = 80.00 asked for, 50.00 owed
            try:
                repayment_confirm(reseller=funded_reseller, customer=customer, amount="2.00", actor=None,
                                  idempotency_key=f"t{index}-{step}")
                outcomes.append("ok")
            except InvalidValue:
                outcomes.append("refused")

    assert run_together([partial(worker, i) for i in range(8)]) == []
    assert sorted(set(outcomes)) == ["ok", "refused"], outcomes
    assert outcomes.count("ok") == 25
    assert Customer.objects.get(pk=customer.pk).used == Decimal("0.00")
    assert Repayment.objects.filter(customer=customer).count() == 25
