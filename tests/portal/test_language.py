"""The portal in English or Simplified Chinese (DESIGN §9): the switch in its user menu (the console's
mechanism, Django's set_language) stores the customer's choice on Customer.language, which its
e-mails and SMS follow and which wins over the cookie and the browser on each portal page; before
sign-in (sign-in, registration) the browser's language decides."""

import pytest
from django.test import Client

from core.errors import InvalidValue
from customers.models import Customer
from customers.services import customer_language_set
from tests.onboarding import PASSWORD, bound_customer, invite
from tests.pages import body, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(reseller):
    return bound_customer(reseller, email="owner@client.example", name="Owner Client")


@pytest.fixture
def neighbour(reseller):
    return bound_customer(reseller, email="neighbour@client.example", name="Neighbour Co")


def test_the_portal_user_menu_has_the_language_switch(owner):
    html = body(client_for(owner[1]).get("/portal/"))
    assert 'action="/i18n/setlang/"' in html and 'name="language" value="zh-hans"' in html
    assert 'name="next" value="/portal/"' in html
    assert "<script>" not in html and "onclick" not in html


def test_a_customer_switching_to_chinese_reads_its_portal_in_chinese_and_the_choice_is_stored(owner, neighbour):
    customer, user = owner
    client = client_for(user)
    assert "Notification settings" in body(client.get("/portal/"))
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/portal/messages/"})
    assert response.status_code == 302 and response["Location"] == "/portal/messages/"
    customer.refresh_from_db()
    assert customer.language == "zh-hans"
    for url in ("/portal/", "/portal/messages/", "/portal/settings/", "/portal/usage/"):
        html = body(client.get(url))
        assert '<html lang="zh-hans">' in html and "通知设置" in html and "消息中心" in html, url
        assert "Notification settings" not in html, url
    # Stored on the customer, not only in this browser's cookie: another browser, an English one, too.
    assert "通知设置" in body(client_for(user).get("/portal/", HTTP_ACCEPT_LANGUAGE="en-US"))
    # Another customer of the same reseller is unaffected.
    other, other_user = neighbour
    html = body(client_for(other_user).get("/portal/"))
    assert '<html lang="en">' in html and "Notification settings" in html and "通知设置" not in html
    other.refresh_from_db()
    assert other.language == "en"
    client.post("/i18n/setlang/", {"language": "en", "next": "/portal/"})
    assert "Notification settings" in body(client.get("/portal/"))
    customer.refresh_from_db()
    assert customer.language == "en"


def test_the_customers_stored_language_wins_over_the_browsers(owner):
    customer, user = owner
    Customer.objects.filter(pk=customer.pk).update(language="zh-hans")
    assert "通知设置" in body(client_for(user).get("/portal/settings/", HTTP_ACCEPT_LANGUAGE="en-US"))
    Customer.objects.filter(pk=customer.pk).update(language="en")
    assert "Notification settings" in body(client_for(user).get("/portal/settings/", HTTP_ACCEPT_LANGUAGE="zh-CN"))


def test_an_unknown_language_changes_nothing(owner):
    customer, user = owner
    response = client_for(user).post("/i18n/setlang/", {"language": "fr", "next": "/portal/"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.language == "en"
    with pytest.raises(InvalidValue) as refused:
        customer_language_set(customer=customer, language="fr")
    assert "en, zh-hans" in refused.value.message
    customer.refresh_from_db()
    assert customer.language == "en"


def test_a_member_switching_language_never_changes_a_customer(owner, operator):
    customer, _ = owner
    client_for(operator.user).post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    customer.refresh_from_db()
    operator.refresh_from_db()
    assert customer.language == "en" and operator.language == "zh-hans"


def test_sign_in_and_registration_follow_the_browsers_language(reseller):
    _, token = invite(reseller, "ops@lotus.example")
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert "客户门户" in body(chinese.get("/portal/login/"))
    html = body(chinese.get(f"/portal/register/{token}/"))
    assert '<html lang="zh-hans">' in html and "注册" in html and "Register" not in html
    english = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    assert "Register" in body(english.get(f"/portal/register/{token}/"))



FIELDS = {"name": "Lotus Labs", "email": "ops@lotus.example", "phone": "+6581234567", "password": PASSWORD,
          "identity_type": "personal"}


def test_an_applicant_registering_in_chinese_becomes_a_chinese_customer(reseller):
    from customers.models import Application
    from customers.services import application_approve

    _, token = invite(reseller, "ops@lotus.example")
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    response = chinese.post(f"/portal/register/{token}/", FIELDS)
    assert response.status_code == 200 and '<html lang="zh-hans">' in body(response)
    application = Application.objects.get()
    assert application.language == "zh-hans"
    customer = application_approve(reseller=reseller, uin=application.uin)
    assert Customer.objects.get(pk=customer.pk).language == "zh-hans"
    assert "通知设置" in body(client_for(application.login.user).get("/portal/", HTTP_ACCEPT_LANGUAGE="en-US"))


def test_an_applicant_registering_in_english_becomes_an_english_customer(reseller):
    from customers.models import Application
    from customers.services import application_approve

    _, token = invite(reseller, "ops@lotus.example")
    Client(HTTP_ACCEPT_LANGUAGE="en-US").post(f"/portal/register/{token}/", FIELDS)
    application = Application.objects.get()
    assert application.language == "en"
    assert application_approve(reseller=reseller, uin=application.uin).language == "en"


def test_an_unknown_registration_language_is_refused_and_writes_nothing(reseller):
    from customers.models import Application, Invitation
    from customers.services import application_register

    _, token = invite(reseller, "ops@lotus.example")
    with pytest.raises(InvalidValue) as refused:
        application_register(token=token, language="fr", **FIELDS)
    assert "en, zh-hans" in refused.value.message
    assert Application.objects.count() == 0 and Invitation.objects.get().status == Invitation.Status.UNUSED


def test_the_rejection_email_is_in_the_applicants_language(reseller):
    from django.core import mail
    from django.utils import translation

    from customers.models import Application
    from customers.services import application_reject

    _, token = invite(reseller, "ops@lotus.example")
    Client(HTTP_ACCEPT_LANGUAGE="zh-CN").post(f"/portal/register/{token}/", FIELDS)
    application = Application.objects.get()
    mail.outbox = []
    with translation.override("en"):  # the deciding member reads English
        application_reject(reseller=reseller, uin=application.uin, reason="Incomplete details")
    [message] = mail.outbox
    assert f"您向 {reseller.name} 提交的申请未获批准" in message.subject, message.subject
    assert "Incomplete details" in message.body
