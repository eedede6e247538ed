"""An alert is said one way (Alert.sentence): the e-mail's subject and first line, the SMS, the
Message Center title and the alert history. Before, each wrote its own sentence (the SMS "has used
91.00% of its credit (alert 90%)", the history "Usage threshold 90%"), and the re-arm notice said
"An allocation brought ..." also when a repayment had re-armed it."""

import re
from decimal import Decimal

import pytest
from django.core import mail

from credits.services import repayment_confirm
from notifications import tasks
from notifications.models import Alert, Delivery, Message
from notifications.services import customer_alerts_evaluate
from notifications.transports import sms
from tests.pages import body, client_for

from .conftest import set_usage

pytestmark = pytest.mark.django_db


def _send_all():
    for delivery in Delivery.objects.filter(status="pending"):
        assert tasks.delivery_send(delivery.pk) == "sent"


def test_one_sentence_on_every_channel_and_in_the_history(shop):
    set_usage(shop.customer, used="91.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    _send_all()
    sentence = f"{shop.customer.name} (UIN {shop.customer.uin}) has used 90% of its credit"
    assert Alert.objects.get(covered=False).title == sentence

    email = next(m for m in mail.outbox if m.to == ["ops@shop.example"])
    assert email.subject == f"[Partner Center] {sentence}"
    assert email.body.startswith(f"{sentence}.") and f"<h1>{sentence}</h1>" in email.alternatives[0][0]
    contact_sms = next(s for s in sms.outbox if s["to"] == "+6580001111")
    assert contact_sms["text"].startswith(f"[Partner Center] {sentence}: ")
    assert Message.objects.get(member=shop.admin).title == sentence
    history = body(client_for(shop.admin.user).get(f"/customers/{shop.customer.uin}/alerts/"))
    assert f"<td>{sentence}</td>" in history

    # The customer is addressed as itself, in the same words.
    own = f"Your account {shop.customer.name} (UIN {shop.customer.uin}) has used 90% of its credit"
    assert next(m for m in mail.outbox if m.to == ["bill@cust.example"]).subject == f"[Partner Center] {own}"
    assert Message.objects.get(customer=shop.customer, for_customer=True).title == own


def test_full_credit_and_custom_warning_sentences(shop):
    set_usage(shop.customer, used="100.00")
    shop.customer.custom_warning_percent = 50
    shop.customer.save(update_fields=["custom_warning_percent"])
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    name = f"{shop.customer.name} (UIN {shop.customer.uin})"
    titles = {(a.kind, a.threshold): a.title for a in Alert.objects.filter(covered=False)}
    assert titles == {
        ("threshold", 100): f"{name} has used all of its credit",
        ("custom", 50): f"Custom balance warning: {name} has less than 50% of its credit available",
    }


def test_a_repayment_re_arms_and_the_notice_does_not_say_allocation(shop):
    set_usage(shop.customer, used="91.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    repayment_confirm(reseller=shop.reseller, customer=shop.customer, amount="30.00", actor=shop.admin.user,
                      idempotency_key="repaid-30")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    _send_all()
    notice = Message.objects.get(member=shop.admin, alert__kind="rearmed")
    assert notice.title == f"{shop.customer.name} (UIN {shop.customer.uin}) is back under 75% of its credit"
    assert "allocation" not in (notice.title + notice.body).lower()
    assert re.search(r"used 61\.00 USD \(61\.00%\)", notice.body)
    assert Decimal(notice.alert.used) == Decimal("61.00")
