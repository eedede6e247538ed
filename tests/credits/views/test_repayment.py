"""Confirm Repayment modal: the customer's used amount drops, errors stay in the modal."""

import re
from decimal import Decimal

import pytest

from credits.models import Repayment
from customers.models import Customer
from tests.pages import body, htmx, set_used

pytestmark = pytest.mark.django_db


def url(customer) -> str:
    return f"/customers/{customer.uin}/repayment/"


def key_of(page: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)


def test_the_modal_confirms_a_repayment_once_even_when_sent_twice(owner_client, customer):
    set_used(customer, "80.00")
    page = body(owner_client.get(url(customer), **htmx("modal")))
    assert page.lstrip().startswith("<dialog") and "80.00 USD" in page
    data = {"amount": "30.00", "remark": "Paid by wire", "idempotency_key": key_of(page)}
    for _ in range(2):  # a double click sends the same form twice
        response = owner_client.post(url(customer), data, **htmx("modal"))
        assert response.status_code == 204
    assert "Repayment confirmed" in response["HX-Trigger"] and "customerUpdated" in response["HX-Trigger"]
    assert Customer.objects.get(pk=customer.pk).used == Decimal("50.00")
    assert Repayment.objects.filter(customer=customer).count() == 1
    assert "Paid by wire" in body(owner_client.get(url(customer), **htmx("modal")))


def test_more_than_used_is_refused_beside_the_field(owner_client, customer):
    set_used(customer, "10.00")
    page = body(owner_client.get(url(customer), **htmx("modal")))
    response = owner_client.post(url(customer), {"amount": "10.01", "idempotency_key": key_of(page)}, **htmx("modal"))
    assert response.status_code == 200
    assert 'id="id_amount_error"' in body(response) and "at most what the customer has used (10.00 USD)" in body(response)
    assert Customer.objects.get(pk=customer.pk).used == Decimal("10.00") and not Repayment.objects.exists()


@pytest.mark.parametrize("amount", ["9" * 30, "1" + "0" * 26])
def test_a_huge_amount_is_refused_beside_the_field(owner_client, customer, amount):
    set_used(customer, "10.00")
    page = body(owner_client.get(url(customer), **htmx("modal")))
    response = owner_client.post(url(customer), {"amount": amount, "idempotency_key": key_of(page)}, **htmx("modal"))
    assert response.status_code == 200
    assert 'id="id_amount_error"' in body(response) and "must not exceed" in body(response)
    assert Customer.objects.get(pk=customer.pk).used == Decimal("10.00") and not Repayment.objects.exists()


def test_without_javascript_the_page_redirects_with_the_message(owner_client, customer):
    set_used(customer, "5.00")
    page = body(owner_client.get(url(customer)))
    assert "<html" in page
    response = owner_client.post(url(customer), {"amount": "5", "idempotency_key": key_of(page)}, follow=True)
    assert response.redirect_chain[-1][0] == "/customers/" and "Repayment confirmed" in body(response)
    assert Customer.objects.get(pk=customer.pk).used == Decimal("0.00")


def test_viewer_403_other_reseller_404_anonymous_sign_in(viewer_client, owner_client, customer, other_customer):
    from django.test import Client

    set_used(customer, "5.00")
    data = {"amount": "1.00", "idempotency_key": "f" * 32}
    assert viewer_client.post(url(customer), data).status_code == 403
    assert owner_client.post(url(other_customer), data).status_code == 404
    assert Client().post(url(customer), data).status_code == 302
    assert not Repayment.objects.exists()


def test_the_row_menu_offers_it_to_writers_only(owner_client, viewer_client, customer):
    assert url(customer) in body(owner_client.get("/customers/"))
    assert url(customer) not in body(viewer_client.get("/customers/"))
