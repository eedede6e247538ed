"""Fixtures and helpers for tests of console pages: a reseller with a funded pool and its customer,
another reseller's customer, and signed-in clients. The conftest.py of each folder of page tests
(tests/console, tests/credits/views, tests/customers/views) imports the fixtures from here."""

from decimal import Decimal

import pytest
from django.test import Client

from credits.services import credit_allocate, pool_grant
from customers.models import Customer
from tests.factories import CustomerFactory, ResellerFactory, UserFactory


def set_used(customer, used) -> None:
    Customer.objects.filter(pk=customer.pk).update(used=Decimal(used))
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
