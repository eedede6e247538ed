"""E-mails, SMS and Message Center texts in the recipient's language (DESIGN §9): the customer's
language for the customer, the member's for a member, the reseller's contact language for the
contact address and phone."""

import pytest
from django.core import mail

from customers.models import Customer, Member, Reseller
from notifications import tasks
from notifications.models import Delivery, Message
from notifications.services import customer_alerts_evaluate
from notifications.transports import sms

from .conftest import set_usage

pytestmark = pytest.mark.django_db


def _send_all(shop):
    set_usage(shop.customer, used="91.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    for delivery in Delivery.objects.all():
        assert tasks.delivery_send(delivery.pk) == "sent"


def _email_to(address):
    [message] = [m for m in mail.outbox if m.to == [address]]
    return message


def test_each_recipient_reads_its_own_language(shop):
    Customer.objects.filter(pk=shop.customer.pk).update(language="zh-hans")
    Member.objects.filter(pk=shop.admin.pk).update(language="en")
    Member.objects.filter(pk=shop.viewer.pk).update(language="zh-hans")
    _send_all(shop)
    name, uin = shop.customer.name, shop.customer.uin

    to_customer = _email_to("bill@cust.example")
    assert to_customer.subject == f"【合作伙伴中心】您的账号 {name}（UIN {uin}）已使用额度的 90%"
    assert "额度：" in to_customer.body and "已用：" in to_customer.body and "91.00 USD (91.00%)" in to_customer.body
    html, _ = to_customer.alternatives[0]
    assert '<html lang="zh-hans">' in html and "可用" in html
    [customer_sms] = [s for s in sms.outbox if s["to"] == "+6590002222"]
    assert customer_sms["text"].startswith("【合作伙伴中心】您的账号") and "已用 91.00%" in customer_sms["text"]

    to_admin = _email_to("admin@shop.example")
    assert to_admin.subject == f"[Partner Center] {name} (UIN {uin}) has used 90% of its credit"
    assert "Credit:" in to_admin.body and "额度" not in to_admin.body

    viewer_message = Message.objects.get(member=shop.viewer)
    assert viewer_message.title == f"{name}（UIN {uin}）已使用额度的 90%"
    assert viewer_message.body.startswith("额度 100.00 USD，已用 91.00 USD")
    admin_message = Message.objects.get(member=shop.admin)
    assert admin_message.title == f"{name} (UIN {uin}) has used 90% of its credit"
    customer_message = Message.objects.get(customer=shop.customer, for_customer=True)
    assert customer_message.title.startswith("您的账号")


def test_the_contact_reads_the_resellers_contact_language(shop):
    Reseller.objects.filter(pk=shop.reseller.pk).update(language="zh-hans")
    _send_all(shop)
    assert _email_to("ops@shop.example").subject.startswith("【合作伙伴中心】")
    [contact_sms] = [s for s in sms.outbox if s["to"] == "+6580001111"]
    assert contact_sms["text"].startswith("【合作伙伴中心】") and "可用 9.00 USD" in contact_sms["text"]
    # A member who never picked a language, and the customer (English by default), read English.
    assert _email_to("admin@shop.example").subject.startswith("[Partner Center] ")
    assert _email_to("bill@cust.example").subject.startswith("[Partner Center] Your account ")


def test_sending_leaves_the_workers_language_alone(shop):
    from django.utils import translation

    Customer.objects.filter(pk=shop.customer.pk).update(language="zh-hans")
    with translation.override("en"):
        _send_all(shop)
        assert translation.get_language() == "en"


def test_the_reseller_sets_a_customers_language_in_alert_channels(client, shop):
    client.force_login(shop.admin.user)
    url = f"/customers/{shop.customer.uin}/channels/"
    modal = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal").content.decode()
    assert 'name="language"' in modal and '<option value="zh-hans"' in modal
    refused = client.post(url, {"alert_email": "on", "language": "fr"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal")
    assert refused.status_code == 200 and "fr is not one of the available choices" in refused.content.decode()
    assert Customer.objects.get(pk=shop.customer.pk).language == "en"
    saved = client.post(url, {"alert_email": "on", "language": "zh-hans"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal")
    assert saved.status_code == 204
    assert Customer.objects.get(pk=shop.customer.pk).language == "zh-hans"
    # A post without the field (an older form) keeps the language.
    client.post(url, {"alert_email": "on"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal")
    assert Customer.objects.get(pk=shop.customer.pk).language == "zh-hans"


def test_the_service_refuses_an_unknown_language_and_changes_nothing(shop):
    from core.errors import InvalidValue
    from notifications.services import customer_alert_channels_update

    with pytest.raises(InvalidValue) as refused:
        customer_alert_channels_update(member=shop.admin, customer=shop.customer, alert_email=False, alert_sms=False,
                                       alert_inbox=False, language="fr")
    assert refused.value.field == "language" and "en, zh-hans" in refused.value.message
    customer = Customer.objects.get(pk=shop.customer.pk)
    assert (customer.alert_email, customer.language) == (True, "en")
