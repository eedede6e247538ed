"""The pool's figures: a page, and the fragment My Customers loads and refreshes after each allocation."""

import pytest

from credits.services import credit_allocate
from tests.pages import body, htmx

pytestmark = pytest.mark.django_db


def test_the_fragment_shows_the_resellers_pool(owner_client, reseller, customer, other_customer):
    credit_allocate(reseller=reseller, customer=customer, amount="5500.00")
    response = owner_client.get("/pool/figures/", **htmx("pool-figures"))
    html = body(response)
    assert html.lstrip().startswith('<section id="pool-figures"') and "<html" not in html
    assert "10,000.00" in html and "5,500.00" in html and "4,500.00" in html
    assert "5,000.00" not in html and "4,700.00" not in html  # the other reseller's pool
    assert "HX-Target" in response["Vary"]


def test_the_fragment_refreshes_itself_on_an_allocation_only(owner_client):
    # Not on "load" as well: the fragment replaces the element that loaded it, which would load again.
    html = body(owner_client.get("/pool/figures/", **htmx("pool-figures")))
    assert 'hx-trigger="creditAllocated from:body"' in html and 'hx-get="/pool/figures/"' in html


def test_without_javascript_the_figures_are_a_page(owner_client, reseller):
    html = body(owner_client.get("/pool/figures/"))
    assert "<title>Customer credit pool" in html and "10,000.00" in html and 'href="/customers/"' in html
