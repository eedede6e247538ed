"""Password reset by e-mail (Django's views) for customer logins only."""

import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import MemberFactory
from tests.onboarding import bound_customer
from tests.pages import body

pytestmark = pytest.mark.django_db
NEW = "Brand-new-pass-2026"


def test_a_customer_resets_its_password_by_email(reseller):
    _, user = bound_customer(reseller, email="reset@client.example")
    mail.outbox.clear()
    client = Client()
    response = client.post("/portal/password-reset/", {"email": "reset@client.example"})
    assert response["Location"] == "/portal/password-reset/sent/"
    [message] = mail.outbox
    link = re.search(r"http://\S+/portal/password-reset/\S+/", message.body).group(0)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    assert "Choose a new password" in body(response)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == "/portal/password-reset/complete/"
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert Client().post("/portal/login/", {"username": "reset@client.example", "password": NEW}).status_code == 302
    # The link worked once.
    assert "not valid any more" in body(client.get(path, follow=True))


def test_a_reseller_members_address_gets_no_portal_reset(reseller):
    MemberFactory(reseller=reseller, user__email="staff@reseller.example")
    response = Client().post("/portal/password-reset/", {"email": "staff@reseller.example"})
    assert response["Location"] == "/portal/password-reset/sent/" and mail.outbox == []
