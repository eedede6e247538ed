"""Reads for the customer portal, each scoped to the signed-in customer."""

from customers.models import Application, Customer, CustomerLogin


def customer_credit(*, customer: Customer) -> Customer:
    """The customer with its balance and reseller (one query)."""
    return Customer.objects.select_related("balance", "reseller").get(pk=customer.pk)


def login_application(*, login: CustomerLogin) -> Application | None:
    return Application.objects.select_related("reseller").filter(login=login).first()
