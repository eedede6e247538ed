"""Fixtures and helpers for tests of console pages: a reseller with a funded pool and its customer,
another reseller's customer, and signed-in clients. The conftest.py of each folder of page tests
(tests/console, tests/credits/views, tests/customers/views) imports the fixtures from here."""

from decimal import Decimal

import pytest
from django.test import Client
from django.test.html import Element, parse_html

from credits.services import credit_allocate, pool_grant
from customers.models import CustomerBalance
from tests.factories import CustomerFactory, ResellerFactory, UserFactory


def set_used(customer, used) -> None:
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal(used))
    customer.refresh_from_db()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reseller(db):
    reseller = ResellerFactory(name="Owner Reseller")
    pool_grant(reseller=reseller, amount="10000.00")
    return reseller


@pytest.fixture
def customer(reseller):
    return CustomerFactory(reseller=reseller, name="Harbor Games", email="billing@harbor.example", remark="VIP")


@pytest.fixture
def other_reseller(db):
    other = ResellerFactory(name="Other Reseller")
    pool_grant(reseller=other, amount="5000.00")
    return other


@pytest.fixture
def other_customer(other_reseller):
    customer = CustomerFactory(reseller=other_reseller, name="Not Yours Ltd")
    credit_allocate(reseller=other_reseller, customer=customer, amount="300.00")
    return customer


@pytest.fixture
def owner_client(operator):
    return client_for(operator.user)


@pytest.fixture
def viewer_client(viewer):
    return client_for(viewer.user)


@pytest.fixture
def stranger_client(db):
    """A user with no reseller at all."""
    return client_for(UserFactory())


HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str | None = None) -> dict:
    headers = dict(HTMX)
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def elements(node: Element, name: str | None = None):
    """Every `name` element (every element, without a name) of a tree from parse_html, this one
    included, in document order: a test reads a page by its elements and their text, not by how
    the template happens to order attributes or classes."""
    if isinstance(node, Element):
        if name is None or node.name == name:
            yield node
        for child in node.children:
            yield from elements(child, name)


def attribute(element: Element, name: str) -> str | None:
    return dict(element.attributes).get(name)


def classes(element: Element) -> set[str]:
    return set((attribute(element, "class") or "").split())


def by_id(html: str, element_id: str) -> Element:
    found = [e for e in elements(parse_html(html)) if attribute(e, "id") == element_id]
    assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
    return found[0]


def text(node) -> str:
    """The text of an element and its descendants, white space collapsed."""
    if isinstance(node, str):
        return node
    return " ".join("".join(text(child) for child in node.children).split())
