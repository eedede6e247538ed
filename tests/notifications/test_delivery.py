import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, Member, Reseller
from notifications import tasks
from notifications.models import Delivery, Message
from notifications.services import customer_alerts_evaluate, deliveries_stuck, delivery_attempt, retry_countdown
from notifications.transports import TransportError, sms
from tests.factories import MemberFactory, UserFactory

from .conftest import set_usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerted(shop):
    set_usage(shop.customer, used="91.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    return shop


def one(channel, recipient_kind="contact"):
    return Delivery.objects.get(channel=channel, recipient_kind=recipient_kind)


def test_every_channel_delivers_once(alerted):
    for delivery in Delivery.objects.all():
        assert tasks.delivery_send(delivery.pk) == "sent"
        assert tasks.delivery_send(delivery.pk) == "skipped"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@shop.example", "bill@cust.example", "ops@shop.example"]
    assert sorted(s["to"] for s in sms.outbox) == ["+6580001111", "+6590002222"]
    customer = alerted.customer
    assert Message.objects.filter(member=alerted.admin).count() == 1
    assert Message.objects.filter(member=alerted.viewer).count() == 1
    assert Message.objects.filter(customer=customer, for_customer=True).count() == 1


def test_email_names_customer_uin_and_threshold_in_text_and_html(alerted):
    tasks.delivery_send(one("email").pk)
    message = mail.outbox[0]
    customer = alerted.customer
    assert customer.name in message.subject and str(customer.uin) in message.subject and "90%" in message.subject
    assert "91.00 USD (91.00%)" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f"UIN {customer.uin}" in html
    assert one("email").provider_ref.startswith("<")


def test_sms_text_and_template_params(alerted):
    tasks.delivery_send(one("sms").pk)
    [sent] = sms.outbox
    assert str(alerted.customer.uin) in sent["text"] and "91.00%" in sent["text"]
    assert sent["params"] == [str(alerted.customer.uin), "90", "91.00", "9.00"]


class Flaky:
    def __init__(self, errors):
        self.errors = list(errors)
        self.sent = 0

    def send(self, delivery):
        if self.errors:
            raise self.errors.pop(0)
        self.sent += 1
        return "ok"


def test_transient_error_is_retried_with_backoff_then_delivered(alerted, settings):
    # apply() does not wait out a countdown, so make the backoff zero to let the retry claim it.
    settings.DELIVERY_RETRY_BACKOFF = 0
    delivery = one("email")
    flaky = Flaky([TransportError("connection reset")])
    with mock.patch("notifications.services.outbox.transport_for", return_value=flaky):
        # apply() runs the task eagerly, retries included (countdowns are not waited for).
        result = tasks.delivery_send.apply(args=(delivery.pk,))
    delivery.refresh_from_db()
    assert result.successful() and result.result == "sent"
    assert (delivery.status, delivery.attempts, delivery.last_error, flaky.sent) == ("sent", 2, "", 1)


def test_transient_error_records_attempt_and_next_time(alerted):
    delivery = one("email")
    now = timezone.now()
    with pytest.raises(Exception) as raised:
        delivery_attempt(delivery_id=delivery.pk, transport=Flaky([TransportError("timeout")]), now=now)
    assert raised.value.countdown == retry_countdown(1) == 30
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "timeout")
    assert delivery.next_attempt_at == now + timedelta(seconds=30)
    # not claimable before its time
    assert delivery_attempt(delivery_id=delivery.pk, transport=Flaky([]), now=now + timedelta(seconds=10)) == "skipped"


def test_backoff_doubles_and_is_capped(settings):
    settings.DELIVERY_RETRY_BACKOFF, settings.DELIVERY_RETRY_BACKOFF_MAX = 30, 300
    assert [retry_countdown(n) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_retries_stop_at_the_attempt_cap(alerted, settings):
    settings.DELIVERY_MAX_ATTEMPTS, settings.DELIVERY_RETRY_BACKOFF = 3, 0
    delivery = one("email")
    flaky = Flaky([TransportError("down")] * 5)
    with mock.patch("notifications.services.outbox.transport_for", return_value=flaky):
        result = tasks.delivery_send.apply(args=(delivery.pk,))
    delivery.refresh_from_db()
    assert result.result == "failed"
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.last_error.startswith("Gave up after 3 attempts")


def test_permanent_error_is_failed_and_not_retried(alerted):
    delivery = one("sms")
    flaky = Flaky([TransportError("InvalidParameterValue.IncorrectPhoneNumber", permanent=True)])
    with mock.patch("notifications.services.outbox.transport_for", return_value=flaky), \
            mock.patch.object(tasks.delivery_send, "retry") as retry:
        assert tasks.delivery_send(delivery.pk) == "failed"
    retry.assert_not_called()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, flaky.sent) == ("failed", 1, 0)
    assert "IncorrectPhoneNumber" in delivery.last_error
    assert tasks.delivery_send(delivery.pk) == "skipped"


def test_smtp_refusal_is_permanent_and_outage_transient(alerted, settings):
    import smtplib

    from notifications.transports.email import EmailTransport

    delivery = one("email")
    for error, permanent in [
        (smtplib.SMTPRecipientsRefused({"x@y": (550, b"no such user")}), True),
        (smtplib.SMTPRecipientsRefused({"x@y": (450, b"try later")}), False),
        (smtplib.SMTPDataError(554, b"rejected"), True),
        (smtplib.SMTPServerDisconnected("gone"), False),
        (ConnectionRefusedError("refused"), False),
    ]:
        with mock.patch("django.core.mail.EmailMessage.send", side_effect=error):
            with pytest.raises(TransportError) as raised:
                EmailTransport().send(delivery)
        assert raised.value.permanent is permanent, error


def test_delivery_left_sending_by_a_dead_worker_is_resent_once(alerted, settings, enqueued):
    delivery = one("email")
    long_ago = timezone.now() - timedelta(seconds=settings.DELIVERY_STALE_AFTER + 5)
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", attempts=1, claimed_at=long_ago)
    fresh = one("sms")
    Delivery.objects.filter(pk=fresh.pk).update(status="sending", attempts=1, claimed_at=timezone.now())
    lost = one("email", "customer")
    Delivery.objects.filter(pk=lost.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    with enqueued() as sent:
        assert tasks.deliveries_resend_stuck() == 2
    [(task, (queued,))] = sent
    assert task == "notifications.tasks.deliveries_send"
    assert sorted(queued) == sorted([delivery.pk, lost.pk])  # the fresh "sending" one is left alone
    tasks.deliveries_send(queued)
    tasks.deliveries_send(queued)  # a duplicate message changes nothing
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert sorted(m.to[0] for m in mail.outbox) == ["bill@cust.example", "ops@shop.example"]
    assert deliveries_stuck() == []


def test_stale_delivery_out_of_attempts_is_failed(alerted, settings):
    delivery = one("email")
    Delivery.objects.filter(pk=delivery.pk).update(
        status="sending", attempts=settings.DELIVERY_MAX_ATTEMPTS, claimed_at=timezone.now() - timedelta(days=1)
    )
    assert delivery.pk not in deliveries_stuck()
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_admin_retry_gives_a_failed_delivery_new_attempts(alerted, enqueued):
    from notifications.services import delivery_retry

    delivery = one("email")
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=6, last_error="boom")
    with enqueued() as sent:
        assert delivery_retry(delivery=delivery) is True
    assert sent == [("notifications.tasks.delivery_send", (delivery.pk,))]
    assert tasks.delivery_send(delivery.pk) == "sent"
    sent = one("email")
    assert delivery_retry(delivery=sent) is False


class _FakeTencent(BaseHTTPRequestHandler):
    replies: list = []
    requests: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"action": self.headers["X-TC-Action"], "body": body,
                                    "auth": self.headers["Authorization"]})
        payload = json.dumps(type(self).replies.pop(0)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_tencent(settings):
    server = HTTPServer(("127.0.0.1", 0), _FakeTencent)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeTencent.replies, _FakeTencent.requests = [], []
    settings.SMS_BACKEND = "tencent"
    settings.SMS_TENCENT_ENDPOINT = f"http://127.0.0.1:{server.server_port}"
    settings.SMS_TENCENT_SECRET_ID, settings.SMS_TENCENT_SECRET_KEY = "AKIDtest", "secret"
    settings.SMS_TENCENT_SDK_APP_ID, settings.SMS_TENCENT_TEMPLATE_ID = "1400000000", "123456"
    settings.SMS_TENCENT_SIGN_NAME = "PartnerCenter"
    yield _FakeTencent
    server.shutdown()
    server.server_close()


def _status(code):
    return {"Response": {"SendStatusSet": [{"SerialNo": "2433:1", "PhoneNumber": "+6580001111", "Fee": 1,
                                             "SessionContext": "", "Code": code, "Message": code,
                                             "IsoCode": "SG"}], "RequestId": "r-1"}}


def test_tencent_sms_goes_through_the_official_sdk(alerted, fake_tencent):
    fake_tencent.replies = [_status("Ok")]
    delivery = one("sms")
    assert tasks.delivery_send(delivery.pk) == "sent"
    [request] = fake_tencent.requests
    assert request["action"] == "SendSms" and request["auth"].startswith("TC3-HMAC-SHA256 Credential=AKIDtest/")
    body = request["body"]
    assert body["PhoneNumberSet"] == ["+6580001111"] and body["TemplateId"] == "123456"
    assert body["SignName"] == "PartnerCenter" and body["SmsSdkAppId"] == "1400000000"
    assert body["TemplateParamSet"][1] == "90"
    delivery.refresh_from_db()
    assert delivery.provider_ref == "2433:1"


def _status_sms(shop):
    from notifications.services.status import customer_freeze

    customer_freeze(reseller=shop.reseller, customer=shop.customer)
    return Delivery.objects.get(alert__kind="status", channel="sms", recipient_kind="contact")


def test_each_kind_of_notice_has_its_own_template_parameters(alerted):
    """Tencent templates have fixed text: a status notice is not sent with the usage alert's
    parameters (it said "used 0 %"), nor a re-arm or a warning."""
    from notifications.models import Alert
    from notifications.transports.sms import SmsTransport

    transport, uin = SmsTransport(), str(alerted.customer.uin)
    usage = one("sms")
    status = _status_sms(alerted)
    assert transport.params(status) == [uin, "Frozen", "9.00"]
    assert tasks.delivery_send(status.pk) == "sent"
    assert [s["kind"] for s in sms.outbox] == ["status"] and "frozen" in sms.outbox[0]["text"]
    for kind, expected in (("rearmed", [uin, "90", "91.00"]), ("custom", [uin, "90", "9.00"]),
                           ("credit", [uin, "90", "9.00"]), ("bound", [uin]),
                           ("threshold", [uin, "90", "91.00", "9.00"])):
        Alert.objects.filter(pk=usage.alert_id).update(kind=kind)
        assert transport.params(Delivery.objects.select_related("alert").get(pk=usage.pk)) == expected, kind


def test_a_status_notice_goes_through_its_own_tencent_template(alerted, fake_tencent, settings):
    from notifications.transports.sms import SmsTransport

    delivery = _status_sms(alerted)
    with pytest.raises(TransportError) as raised:  # the usage alert's template is not used instead
        SmsTransport().send(delivery)
    assert raised.value.permanent and "SMS_TENCENT_STATUS_TEMPLATE_ID" in str(raised.value)
    assert fake_tencent.requests == []
    settings.SMS_TENCENT_STATUS_TEMPLATE_ID = "654321"
    fake_tencent.replies = [_status("Ok")]
    SmsTransport().send(delivery)
    [request] = fake_tencent.requests
    assert request["body"]["TemplateId"] == "654321"
    assert request["body"]["TemplateParamSet"] == [str(alerted.customer.uin), "Frozen", "9.00"]


def test_tencent_errors_are_sorted_into_transient_and_permanent(alerted, fake_tencent):
    from notifications.transports.sms import SmsTransport

    delivery = one("sms")
    fake_tencent.replies = [
        _status("LimitExceeded.PhoneNumberThirtySecondLimit"),
        _status("InvalidParameterValue.IncorrectPhoneNumber"),
        {"Response": {"Error": {"Code": "AuthFailure.SecretIdNotFound", "Message": "no"}, "RequestId": "r"}},
        {"Response": {"Error": {"Code": "InternalError", "Message": "oops"}, "RequestId": "r"}},
    ]
    outcomes = []
    for _ in range(4):
        with pytest.raises(TransportError) as raised:
            SmsTransport().send(delivery)
        outcomes.append(raised.value.permanent)
    assert outcomes == [False, True, True, False]


def test_tencent_without_settings_fails_permanently(alerted, settings):
    from notifications.transports.sms import SmsTransport

    settings.SMS_BACKEND = "tencent"
    settings.SMS_TENCENT_SECRET_ID = ""
    with pytest.raises(TransportError) as raised:
        SmsTransport().send(one("sms"))
    assert raised.value.permanent and "SMS_TENCENT_SECRET_ID" in str(raised.value)


def test_file_sms_backend_writes_one_file_per_message(alerted, settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path)
    tasks.delivery_send(one("sms").pk)
    [path] = list(tmp_path.glob("*.sms"))
    content = json.loads(path.read_text())
    assert content["to"] == "+6580001111" and str(alerted.customer.uin) in content["text"]


def test_chunk_goes_on_after_a_transient_failure_and_schedules_its_retry(alerted, enqueued):
    ids = list(Delivery.objects.order_by("id").values_list("id", flat=True))
    failing = one("email", "member").pk
    real_send = __import__("notifications.transports.email", fromlist=["EmailTransport"]).EmailTransport.send

    def flaky_send(self, delivery):
        if delivery.pk == failing:
            raise TransportError("451 try again later")
        return real_send(self, delivery)

    with mock.patch("notifications.transports.email.EmailTransport.send", flaky_send), enqueued() as sent:
        outcomes = tasks.deliveries_send(ids + [ids[0]])  # a duplicate id is claimed once
    assert outcomes == {"skipped": 0, "sent": len(ids) - 1, "retry": 1}
    assert sent == [("notifications.tasks.delivery_send", (failing,), {"countdown": 30})]
    assert Delivery.objects.get(pk=failing).status == "pending"
    assert Delivery.objects.exclude(pk=failing).filter(status="sent").count() == len(ids) - 1
    assert tasks.deliveries_send(ids) == {"skipped": len(ids)}


# --- one address, one message per alert (issue 8, defect 13) ---------------------------------


def evaluate_and_send(shop):
    set_usage(shop.customer, used="91.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    for delivery_id in Delivery.objects.order_by("id").values_list("id", flat=True):
        assert tasks.delivery_send(delivery_id) == "sent"


def kept(channel):
    return sorted(Delivery.objects.filter(channel=channel).values_list("recipient_key", "address"))


def test_contact_and_members_sharing_an_address_get_one_email(shop):
    # The contact address is also the admin's and an operator's, written another way each time.
    User.objects.filter(pk=shop.admin.user_id).update(email="OPS@Shop.Example")
    operator = MemberFactory(reseller=shop.reseller, role="operator", user=UserFactory(email=" ops@shop.example "))

    evaluate_and_send(shop)

    assert kept("email") == [("contact", "ops@shop.example"), ("customer", "bill@cust.example")]
    assert sorted(m.to[0] for m in mail.outbox) == ["bill@cust.example", "ops@shop.example"]
    # Each Message Center still gets its own message.
    assert {m.member_id for m in Message.objects.filter(for_customer=False)} == {shop.admin.pk, shop.viewer.pk, operator.pk}


def test_of_members_sharing_an_address_the_first_member_keeps_the_delivery(shop):
    Reseller.objects.filter(pk=shop.reseller.pk).update(contact_alert_email=False)
    later = MemberFactory(reseller=shop.reseller, role="operator", user=UserFactory(email="Admin@shop.example"))

    evaluate_and_send(shop)

    assert kept("email") == [("customer", "bill@cust.example"), (f"member:{shop.admin.pk}", "admin@shop.example")]
    assert later.pk > shop.admin.pk
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@shop.example", "bill@cust.example"]


def test_contact_member_and_customer_sharing_a_phone_get_one_sms(shop):
    Member.objects.filter(pk=shop.admin.pk).update(phone="+6580001111", alert_sms=True)
    Customer.objects.filter(pk=shop.customer.pk).update(phone=" +6580001111 ")

    evaluate_and_send(shop)

    assert kept("sms") == [("contact", "+6580001111")]
    assert [s["to"] for s in sms.outbox] == ["+6580001111"]


def test_a_customer_sharing_the_contacts_address_gets_the_alert_once(shop):
    Customer.objects.filter(pk=shop.customer.pk).update(email="Ops@Shop.example")

    evaluate_and_send(shop)

    assert kept("email") == [("contact", "ops@shop.example"), (f"member:{shop.admin.pk}", "admin@shop.example")]
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@shop.example", "ops@shop.example"]


@pytest.mark.parametrize("channel, address", [("email", " OPS@shop.example"), ("sms", "+6580001111 ")])
def test_the_database_refuses_a_second_delivery_to_one_address(alerted, channel, address):
    first = one(channel)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(alert=first.alert, recipient_kind="member", member=alerted.viewer,
                                recipient_key=f"member:{alerted.viewer.pk}", channel=channel, address=address)
    # Message Center deliveries carry no address and stay one per inbox.
    assert Delivery.objects.filter(alert=first.alert, channel="inbox").count() == 3


def test_file_sms_backend_makes_its_folder_again_if_it_went(alerted, settings, tmp_path):
    import shutil

    from notifications.transports.sms import FileBackend

    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    FileBackend().send(phone="+6580001111", text="one", params=[])
    shutil.rmtree(tmp_path / "sms")
    FileBackend().send(phone="+6580001111", text="two", params=[])
    assert [json.loads(p.read_text())["text"] for p in (tmp_path / "sms").glob("*.sms")] == ["two"]
