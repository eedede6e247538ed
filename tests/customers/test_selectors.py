"""customers.selectors: every read is scoped to the reseller, so another reseller's customer is not
there at all (a view that reads through them answers 404)."""

import pytest
from django.http import Http404

from customers.selectors import CUSTOMER_LIST_FIELDS, customer_get, customer_list
from tests.factories import CustomerFactory, ResellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_resellers():
    mine, theirs = ResellerFactory(), ResellerFactory()
    return mine, theirs, [CustomerFactory(reseller=mine) for _ in range(3)], CustomerFactory(reseller=theirs)


def test_customer_list_holds_only_the_resellers_customers_newest_binding_first(two_resellers):
    mine, theirs, my_customers, their_customer = two_resellers
    assert list(customer_list(reseller=mine)) == sorted(my_customers, key=lambda c: (c.bound_at, c.pk), reverse=True)
    assert list(customer_list(reseller=theirs)) == [their_customer]
    assert list(customer_list(reseller=ResellerFactory())) == []


def test_customer_list_loads_every_column_my_customers_shows_in_one_query(two_resellers, django_assert_num_queries):
    mine = two_resellers[0]
    with django_assert_num_queries(1):
        rows = [[getattr(customer, field) for field in CUSTOMER_LIST_FIELDS] for customer in customer_list(reseller=mine)]
    assert len(rows) == 3


def test_customer_get_finds_the_resellers_own_customer_by_uin(two_resellers):
    mine, _, my_customers, _ = two_resellers
    assert customer_get(reseller=mine, uin=my_customers[1].uin) == my_customers[1]


def test_another_resellers_or_an_unknown_uin_is_404(two_resellers):
    mine, _, _, their_customer = two_resellers
    for uin in (their_customer.uin, 999999999999):
        with pytest.raises(Http404):
            customer_get(reseller=mine, uin=uin)
