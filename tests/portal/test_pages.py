"""The portal's pages: registration through the invitation link, the application's status, credit,
and the Message Center with its bell."""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from credits.services import credit_allocate, pool_grant
from customers import services
from customers.models import Application, Invitation
from tests.notifications_inbox import customer_message
from tests.onboarding import PASSWORD, bound_customer, invite, register
from tests.pages import body, by_id, client_for, set_used, text

pytestmark = pytest.mark.django_db

FIELDS = {"name": "Lotus Labs", "email": "ops@lotus.example", "phone": "+6581234567", "password": PASSWORD,
          "identity_type": "personal"}


def test_register_page_prefills_the_email_and_registers(reseller):
    _, token = invite(reseller, "ops@lotus.example")
    client = Client()
    page = body(client.get(f"/portal/register/{token}/"))
    assert 'value="ops@lotus.example"' in page and reseller.name in page
    response = client.post(f"/portal/register/{token}/", FIELDS)
    application = Application.objects.get()
    assert response.status_code == 200 and text(by_id(body(response), "new-uin")) == str(application.uin)
    assert Invitation.objects.get().status == Invitation.Status.USED


def test_register_page_shows_a_bad_field_and_writes_nothing(reseller):
    _, token = invite(reseller)
    response = Client().post(f"/portal/register/{token}/", {**FIELDS, "password": "123"})
    assert response.status_code == 200 and "password" in body(response).lower()
    assert Application.objects.count() == 0 and Invitation.objects.get().status == Invitation.Status.UNUSED


def test_used_revoked_expired_and_unknown_links_explain_themselves(reseller):
    _, used = invite(reseller, "a@example.com")
    Client().post(f"/portal/register/{used}/", {**FIELDS, "email": "a@example.com"})
    revoked_invitation, revoked = invite(reseller, "b@example.com")
    services.invitation_revoke(reseller=reseller, invitation_id=revoked_invitation.pk)
    _, expiring = invite(reseller, "c@example.com")
    cases = [(used, 410, "already used"), (revoked, 410, "withdrawn"), ("no-such-token", 404, "not valid")]
    for token, status, words in cases:
        for method in ("get", "post"):
            response = getattr(Client(), method)(f"/portal/register/{token}/", {**FIELDS, "email": "z@example.com"})
            assert response.status_code == status and words in body(response), (token, method)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=8)):
        response = Client().post(f"/portal/register/{expiring}/", {**FIELDS, "email": "c@example.com"})
    assert response.status_code == 410 and "expired" in body(response)
    assert Application.objects.count() == 1


def test_a_pending_login_sees_its_application_and_nothing_else(reseller):
    application = register(reseller)
    client = client_for(application.login.user)
    page = body(client.get("/portal/"))
    assert "waiting" in page and str(application.uin) in page
    assert client.get("/portal/messages/")["Location"] == "/portal/"
    services.application_reject(reseller=reseller, uin=application.uin, reason="Papers missing")
    page = body(client.get("/portal/"))
    assert "did not approve" in page and "Papers missing" in page


def test_credit_page_shows_the_figures_and_the_reseller(reseller):
    customer, user = bound_customer(reseller)
    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    set_used(customer, "80.00")
    page = body(client_for(user).get("/portal/"))
    assert text(by_id(page, "figure-credit")) == "100.00"
    assert text(by_id(page, "figure-used")) == "80.00"
    assert text(by_id(page, "figure-available")) == "20.00"
    assert "80.00%" in text(by_id(page, "figure-used-percent"))
    assert reseller.name in page and reseller.contact_email in page


def test_available_below_zero_is_red(reseller):
    customer, user = bound_customer(reseller)
    credit_allocate(reseller=reseller, customer=customer, amount="10.00")
    set_used(customer, "12.50")
    figure = by_id(body(client_for(user).get("/portal/")), "figure-available")
    assert text(figure) == "-2.50" and "negative" in dict(figure.attributes)["class"]


def test_message_center_lists_newest_first_and_the_bell_counts_unread(reseller):
    customer, user = bound_customer(reseller)
    first = customer_message(customer, title="First alert", threshold=75)
    second = customer_message(customer, title="Second alert", threshold=90)
    client = client_for(user)
    page = body(client.get("/portal/messages/"))
    assert page.index("Second alert") < page.index("First alert")
    assert 'Message Center, 2 unread' in page
    client.post(f"/portal/messages/{second.pk}/read/")
    assert 'Message Center, 1 unread' in body(client.get("/portal/"))
    client.post("/portal/messages/read-all/")
    assert 'Message Center, 0 unread' in body(client.get("/portal/"))
    first.refresh_from_db()
    assert first.read_at is not None


def test_the_resellers_messages_about_the_customer_are_not_in_its_portal(reseller):
    from tests.factories import MemberFactory

    customer, user = bound_customer(reseller)
    member = MemberFactory(reseller=reseller)
    pool_grant(reseller=reseller, amount="100.00")
    from notifications.services import customer_bound_notice, delivery_attempt
    alert = customer_bound_notice(customer_id=customer.pk)
    for delivery in alert.deliveries.all():
        delivery_attempt(delivery_id=delivery.pk)
    assert member.messages.count() == 1
    page = body(client_for(user).get("/portal/messages/"))
    assert "approved and bound" not in page and "No messages yet" in page
