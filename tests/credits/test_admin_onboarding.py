"""The platform admin onboards a reseller through the same service as every other path: the admin's
add form calls reseller_create, which writes the reseller with its pool (the admin used to save the
row itself and get_or_create a pool after it)."""

from unittest import mock

import pytest
from django.urls import reverse

from credits import services
from credits.models import CreditPool
from customers.models import Member, Reseller
from tests.factories import ResellerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("platform", "ops@example.com", "platform-password"))
    return client


def _reseller_form(**changes) -> dict:
    return {
        "name": "Onboarded Reseller", "uin": "500000008888", "contact_email": "ops@onboarded.example",
        "contact_phone": "", "time_zone": "Asia/Shanghai", "customer_alerts_enabled": "on",
        "created_at_0": "2026-01-01", "created_at_1": "00:00:00",
        "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0", **changes,
    }


def test_adding_a_reseller_goes_through_reseller_create_with_its_pool_and_members(admin_client):
    user = UserFactory(username="first-admin")
    form = _reseller_form(**{"members-TOTAL_FORMS": "1", "members-0-user": str(user.pk), "members-0-role": "admin",
                             "members-0-phone": "", "members-0-alert_email": "on", "members-0-alert_inbox": "on"})
    with mock.patch.object(services, "reseller_create", wraps=services.reseller_create) as reseller_create:
        response = admin_client.post(reverse("admin:customers_reseller_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    reseller = Reseller.objects.get()
    assert reseller_create.call_count == 1 and reseller_create.call_args.kwargs["uin"] == 500000008888
    assert (reseller.name, reseller.contact_email) == ("Onboarded Reseller", "ops@onboarded.example")
    pool = CreditPool.objects.get(reseller=reseller)
    assert (pool.total, pool.remaining) == (0, 0)
    assert Member.objects.get(reseller=reseller).user == user


def test_changing_a_reseller_in_the_admin_keeps_its_pool(admin_client):
    reseller = ResellerFactory()
    pool = CreditPool.objects.get(reseller=reseller)
    form = _reseller_form(name="Renamed", uin=str(reseller.uin))
    with mock.patch.object(services, "reseller_create") as reseller_create:
        response = admin_client.post(reverse("admin:customers_reseller_change", args=[reseller.pk]), form)
    assert response.status_code == 302 and not reseller_create.called
    assert Reseller.objects.get(pk=reseller.pk).name == "Renamed"
    assert CreditPool.objects.get(reseller=reseller).pk == pool.pk
