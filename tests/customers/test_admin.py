"""The platform admin binds a customer to a reseller directly (DESIGN §7): the customer starts with
nothing allocated or used, shows in the reseller's My Customers, and what customer_create refuses
is refused here too, with nothing written."""

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.selectors import customer_list
from tests.factories import CustomerFactory, ResellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("platform", "ops@example.com", "platform-password"))
    return client


def customer_form(reseller, **fields) -> dict:
    return {
        "uin": "700000000777", "reseller": reseller.pk, "name": "Harbor Games", "email": "billing@harbor.example",
        "phone": "", "remark": "VIP", "bound_at_0": "2026-01-05", "bound_at_1": "09:00:00",
        "identity_type": "enterprise", "custom_warning_percent": "",
        "alert_email": "on", "alert_sms": "on", "alert_inbox": "on", **fields,
    }


def test_a_customer_added_in_admin_is_bound_with_nothing_allocated(platform_client, reseller):
    response = platform_client.post(reverse("admin:customers_customer_add"), customer_form(reseller))
    assert response.status_code == 302
    customer = Customer.objects.get(uin=700000000777)
    assert (customer.reseller, customer.name, customer.remark) == (reseller, "Harbor Games", "VIP")
    assert (customer.credit, customer.used, customer.available) == (0, 0, 0)
    assert list(customer_list(reseller=reseller)) == [customer]


def test_credit_and_used_cannot_be_set_in_admin(platform_client, reseller):
    platform_client.post(reverse("admin:customers_customer_add"), customer_form(reseller, credit="500.00", used="9.00"))
    customer = Customer.objects.get(uin=700000000777)
    assert (customer.credit, customer.used) == (0, 0)


@pytest.mark.parametrize("fields", [
    {"uin": ""}, {"uin": "0"}, {"uin": "-5"}, {"uin": "abc"}, {"uin": str(2**63)},
    {"name": "   "}, {"name": "Harbor\x00Games"}, {"remark": "r" * 256}, {"email": "not-an-address"},
])
def test_what_the_service_refuses_is_refused_in_admin_and_nothing_is_written(platform_client, reseller, fields):
    response = platform_client.post(reverse("admin:customers_customer_add"), customer_form(reseller, **fields))
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not Customer.objects.exists()


def test_a_uin_bound_to_another_reseller_is_refused_in_admin(platform_client, reseller):
    theirs = CustomerFactory(reseller=ResellerFactory())
    response = platform_client.post(reverse("admin:customers_customer_add"), customer_form(reseller, uin=str(theirs.uin)))
    assert response.status_code == 200 and "uin" in response.context["adminform"].form.errors
    assert list(Customer.objects.values_list("uin", "reseller")) == [(theirs.uin, theirs.reseller_id)]


def test_the_platform_admin_grants_non_stop_and_sees_the_status(platform_client, reseller):
    customer = CustomerFactory(reseller=reseller, frozen=True)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = platform_client.get(url).content.decode()
    assert 'name="non_stop"' in page and "Frozen" in page
    fields = customer_form(reseller, uin=str(customer.uin), non_stop="on")
    assert platform_client.post(url, fields).status_code == 302
    assert Customer.objects.get(pk=customer.pk).non_stop


def test_the_platform_admin_puts_a_reseller_on_the_suspension_allowlist(platform_client, reseller):
    from customers.models import Reseller

    url = reverse("admin:customers_reseller_change", args=[reseller.pk])
    page = platform_client.get(url).content.decode()
    assert 'name="suspension_allowlisted"' in page
    changelist = platform_client.get(reverse("admin:customers_reseller_changelist")).content.decode()
    assert "suspension-rule allowlist" in changelist
    Reseller.objects.filter(pk=reseller.pk).update(suspension_allowlisted=True)
    assert Reseller.objects.get(pk=reseller.pk).suspension_allowlisted
