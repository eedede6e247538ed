"""Issue 14 item 11: an empty list says why it is empty and what to do - clear the search and
filters (a link to the list without them, the sort kept), or how the first row comes."""

import pytest

from tests.factories import CustomerFactory
from tests.pages import body, client_for


@pytest.fixture
def lone_owner(db):
    from customers.models import Member
    from tests.factories import MemberFactory, ResellerFactory

    member = MemberFactory(reseller=ResellerFactory(name="Empty Reseller"), role=Member.Role.OPERATOR)
    return member


def test_my_customers_with_no_customer_says_how_one_arrives(lone_owner):
    html = body(client_for(lone_owner.user).get("/customers/"))
    assert "No customers are bound to your account yet." in html
    assert "when its invitation is accepted and approved" in html
    assert "Clear search and filters" not in html


def test_my_customers_narrowed_to_nothing_offers_to_clear_the_filters(lone_owner):
    CustomerFactory(reseller=lone_owner.reseller, name="Only One")
    html = body(client_for(lone_owner.user).get("/customers/?q=nobody&sort=-name&per_page=50"))
    assert "No customers match these filters." in html
    assert "Change the search or filters, or clear them to see the whole list." in html
    assert 'href="/customers/?sort=-name">Clear search and filters</a>' in html
    # Sort, page and page size alone narrow nothing: no empty state for a list that has rows.
    assert "Clear search and filters" not in body(client_for(lone_owner.user).get("/customers/?sort=-name&per_page=50"))


def test_records_before_any_allocation_point_to_my_customers(lone_owner):
    html = body(client_for(lone_owner.user).get("/records/"))
    assert "No allocations yet." in html
    assert 'href="/customers/">Allocate credit in My Customers</a>' in html


def test_records_filtered_to_nothing_offer_to_clear_them(lone_owner):
    html = body(client_for(lone_owner.user).get("/records/?type=repossess"))
    assert "No allocation records match these filters." in html
    assert 'href="/records/">Clear search and filters</a>' in html


def test_api_keys_and_applications_say_what_to_do(lone_owner):
    client = client_for(lone_owner.user)
    assert "Create a key above to call the partner API from your own systems." in body(client.get("/api-keys/"))
    assert "apply above for more customer credit" in body(client.get("/"))
