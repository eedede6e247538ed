"""The customer's own API key page: owner, another customer, a reseller member, anonymous."""

import pytest
from django.test import Client

from api.models import ApiKey
from tests.factories import MemberFactory, ResellerFactory
from tests.onboarding import bound_customer
from tests.pages import body, by_id, client_for

pytestmark = pytest.mark.django_db


def test_owner_creates_its_key_sees_the_secret_once_and_deletes_it(reseller):
    _, user = bound_customer(reseller)
    client = client_for(user)
    response = client.post("/portal/api-keys/")
    key = ApiKey.objects.get(user=user)
    created = body(response)
    assert key.secret_id in created and "will not be shown again" in created
    page = body(client.get("/portal/api-keys/"))
    assert key.secret_id in page and "key-created" not in page
    response = client.post(f"/portal/api-keys/{key.pk}/delete/")
    assert response.status_code == 302 and not ApiKey.objects.exists()


def test_another_customer_and_a_member_cannot_touch_the_key(reseller):
    _, user = bound_customer(reseller)
    client_for(user).post("/portal/api-keys/")
    key = ApiKey.objects.get(user=user)
    _, stranger = bound_customer(ResellerFactory(), email="stranger@client.example")
    stranger_client = client_for(stranger)
    assert key.secret_id not in body(stranger_client.get("/portal/api-keys/"))
    assert stranger_client.post(f"/portal/api-keys/{key.pk}/delete/").status_code == 404
    member = client_for(MemberFactory(reseller=reseller, role="admin").user)
    assert member.get("/portal/api-keys/").status_code == 404
    assert member.post(f"/portal/api-keys/{key.pk}/delete/").status_code == 404
    for method, url in (("get", "/portal/api-keys/"), ("post", f"/portal/api-keys/{key.pk}/delete/")):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/")
    assert ApiKey.objects.filter(pk=key.pk).exists()
    # The reseller's API Keys page does not list a customer's key either.
    assert key.secret_id not in body(member.get("/api-keys/"))
    assert by_id(body(client_for(user).get("/portal/api-keys/")), "main") is not None
