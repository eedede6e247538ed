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


def test_balances_matching_count_counts_what_the_orm_counts_up_to_its_limit():
    """My Customers filtered on the balance alone counts through a statement compiled once per set of
    lookups and limit (customers.selectors.balances_matching_count): the same number as the ORM's
    capped count, for each set of lookups, each limit, and only the reseller's own balances."""
    from itertools import combinations

    from customers.models import CustomerBalance
    from customers.selectors import balances_matching, balances_matching_count

    mine, theirs = ResellerFactory(), ResellerFactory()
    for n in range(7):
        CustomerFactory(reseller=mine, credit=100, used=n * 16, frozen=n % 3 == 0)
        CustomerFactory(reseller=theirs, credit=100, used=n * 16, frozen=n % 2 == 0)
    CustomerBalance.objects.filter(reseller=mine, used__gte=80).update(burn_rate=10)  # 2 to 8 days to zero
    values = {"status": ["frozen", "normal", "overdue"], "usage_band__gte": [0, 75, 90, 100],
              "days_to_zero__lte": [0, 5, 3650]}
    compared = 0
    for size in (1, 2, 3):
        for names in combinations(sorted(values), size):
            for picked in [dict(zip(names, choice, strict=True)) for choice in _product([values[name] for name in names])]:
                for limit in (2, 10_001):
                    expected = balances_matching(reseller=mine, conditions=picked).order_by()[:limit].count()
                    assert balances_matching_count(reseller=mine, conditions=picked, limit=limit) == expected, picked
                    compared += expected > 0
    assert compared > 10  # the data matches many of them


def _product(lists):
    from itertools import product

    return list(product(*lists))
