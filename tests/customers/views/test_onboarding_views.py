"""Customer Management's Invitations and Pending customers tabs: as owner, another reseller (404),
read-only member (403 on writes) and anonymous (sign-in redirect)."""

import pytest
from django.core import mail
from django.test import Client

from customers.models import Application, Customer, Invitation
from tests.onboarding import invite, register
from tests.pages import body, htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(reseller):
    return register(reseller)


@pytest.fixture
def invitation(reseller):
    return invite(reseller, "fresh@client.example")[0]


def test_invitations_tab_lists_status_and_actions(owner_client, invitation, application):
    page = body(owner_client.get("/customers/invitations/"))
    assert "fresh@client.example" in page and "Unused" in page and "Used" in page
    assert str(application.uin) in page
    assert f"/customers/invitations/{invitation.pk}/revoke/" in page
    assert f"/customers/invitations/{application.invitation_id}/revoke/" not in page


def test_viewer_sees_no_actions_and_cannot_write(viewer_client, invitation, application):
    page = body(viewer_client.get("/customers/invitations/"))
    assert "fresh@client.example" in page and "/revoke/" not in page and "Invite Customer" not in page
    assert "/approve/" not in body(viewer_client.get("/customers/pending/"))
    for url in ("/customers/invitations/new/", f"/customers/invitations/{invitation.pk}/revoke/",
                f"/customers/invitations/{invitation.pk}/resend/", f"/customers/pending/{application.uin}/approve/",
                f"/customers/pending/{application.uin}/reject/"):
        assert viewer_client.post(url, {"email": "x@example.com", "reason": "r"}).status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    assert Application.objects.get().status == "pending" and Customer.objects.count() == 0


def test_invite_modal_sends_the_invitation(owner_client, reseller):
    response = owner_client.post("/customers/invitations/new/", {"email": "lotus@client.example"}, **htmx("modal"))
    assert response.status_code == 204
    assert "invitationsChanged" in response["HX-Trigger"] and "closeModal" in response["HX-Trigger"]
    assert Invitation.objects.get(reseller=reseller).email == "lotus@client.example"
    assert mail.outbox[0].to == ["lotus@client.example"]


def test_invite_modal_shows_a_bad_address_and_writes_nothing(owner_client):
    response = owner_client.post("/customers/invitations/new/", {"email": "not an address"}, **htmx("modal"))
    assert response.status_code == 200 and "valid e-mail" in body(response)
    assert Invitation.objects.count() == 0 and mail.outbox == []


def test_resend_and_revoke(owner_client, invitation):
    response = owner_client.post(f"/customers/invitations/{invitation.pk}/resend/")
    assert response.status_code == 302 and len(mail.outbox) == 2
    owner_client.post(f"/customers/invitations/{invitation.pk}/revoke/")
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.REVOKED
    response = owner_client.post(f"/customers/invitations/{invitation.pk}/revoke/", follow=True)
    assert "already revoked" in body(response)


def test_pending_tab_lists_applications(owner_client, application):
    page = body(owner_client.get("/customers/pending/"))
    for value in (str(application.uin), application.name, application.email, application.phone, "Enterprise"):
        assert value in page
    # A pending customer is not in My Customers.
    assert str(application.uin) not in body(owner_client.get("/customers/"))


def test_approve_binds_the_customer(owner_client, application, reseller):
    response = owner_client.post(f"/customers/pending/{application.uin}/approve/", follow=True)
    assert "approved" in body(response)
    customer = Customer.objects.get(uin=application.uin, reseller=reseller)
    assert customer.credit == 0
    assert str(application.uin) in body(owner_client.get("/customers/"))


def test_reject_needs_a_reason(owner_client, application):
    response = owner_client.post(f"/customers/pending/{application.uin}/reject/", {"reason": ""}, **htmx("modal"))
    assert response.status_code == 200 and "required" in body(response).lower()
    assert Application.objects.get().status == "pending"
    mail.outbox.clear()
    response = owner_client.post(f"/customers/pending/{application.uin}/reject/", {"reason": "Incomplete"}, **htmx("modal"))
    assert response.status_code == 204 and "applicationsChanged" in response["HX-Trigger"]
    assert Application.objects.get().reject_reason == "Incomplete" and "Incomplete" in mail.outbox[0].body


def test_another_reseller_gets_404(other_reseller, application, invitation):
    from tests.factories import MemberFactory
    from tests.pages import client_for

    client = client_for(MemberFactory(reseller=other_reseller).user)
    assert str(application.uin) not in body(client.get("/customers/pending/"))
    assert "fresh@client.example" not in body(client.get("/customers/invitations/"))
    assert client.post(f"/customers/pending/{application.uin}/approve/").status_code == 404
    assert client.get(f"/customers/pending/{application.uin}/reject/").status_code == 404
    client.post(f"/customers/invitations/{invitation.pk}/revoke/")
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    assert Application.objects.get().status == "pending"


@pytest.mark.parametrize("url", ["/customers/invitations/", "/customers/invitations/new/", "/customers/pending/"])
def test_anonymous_is_sent_to_sign_in(url, db):
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
