"""Random operation sequences never break conservation (DESIGN §2)."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core.errors import DomainError
from credits.models import AllocationRecord, CreditPool
from credits.selectors import ledger_mismatches
from credits.services import credit_allocate, pool_grant
from customers.models import Customer, CustomerBalance
from tests.factories import CustomerFactory, ResellerFactory

amounts = st.decimals(min_value=Decimal("-3000"), max_value=Decimal("3000"), places=2).filter(lambda d: d != 0)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), st.integers(0, 2), amounts),
        st.tuples(st.just("grant"), st.just(0), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2000"), places=2)),
        st.tuples(st.just("use"), st.integers(0, 2), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("800"), places=2)),
    ),
    max_size=40,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_random_sequences_conserve_credit(ops):
    reseller = ResellerFactory()
    customers = [CustomerFactory(reseller=reseller) for _ in range(3)]
    for kind, index, amount in ops:
        if kind == "grant":
            pool_grant(reseller=reseller, amount=amount)
        elif kind == "use":
            CustomerBalance.objects.filter(pk=customers[index].pk).update(used=Customer.objects.get(pk=customers[index].pk).used + amount)
        else:
            pool_remaining = CreditPool.objects.get(reseller=reseller).remaining
            customer = Customer.objects.get(pk=customers[index].pk)
            should_pass = amount <= pool_remaining if amount > 0 else -amount <= max(customer.available, 0)
            try:
                credit_allocate(reseller=reseller, customer=customer, amount=amount)
                assert should_pass
            except DomainError:
                assert not should_pass
    assert [m for m in ledger_mismatches() if str(reseller.uin) in m.reseller] == []
    pool = CreditPool.objects.get(reseller=reseller)
    assert pool.remaining >= 0
    for customer in Customer.objects.filter(reseller=reseller):
        assert customer.credit >= 0
        assert customer.credit == sum(AllocationRecord.objects.filter(customer=customer).values_list("amount", flat=True))
