"""The platform admin binds a customer through customer_create, as every other path does (DESIGN §7):
the add form asks for what the service takes and calls it, instead of saving the row itself."""

from unittest import mock

import pytest
from django.urls import reverse

from customers import admin as customer_admin
from customers.models import Customer
from tests.factories import ResellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("platform", "ops@example.com", "platform-password"))
    return client


def test_adding_a_customer_goes_through_customer_create(admin_client):
    reseller = ResellerFactory()
    url = reverse("admin:customers_customer_add")
    page = admin_client.get(url).content.decode()
    assert 'name="uin"' in page and 'name="credit"' not in page and 'name="account_status"' not in page
    form = {"reseller": str(reseller.pk), "uin": "700000000777", "name": "Acme", "email": "", "phone": "",
            "remark": "Key account", "identity_type": "enterprise", "bound_at_0": "2026-01-01", "bound_at_1": "08:00:00"}
    with mock.patch.object(customer_admin, "customer_create", wraps=customer_admin.customer_create) as customer_create:
        response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(uin=700000000777)
    assert customer_create.call_count == 1
    assert (customer.reseller, customer.name, customer.remark, customer.credit) == (reseller, "Acme", "Key account", 0)
    # Editing it afterwards is a plain admin change; its UIN and reseller stay as bound.
    change = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert 'name="uin"' not in change and 'name="remark"' in change
