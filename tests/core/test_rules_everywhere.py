"""Each rule of core shows the same on every surface: used % (half-up), money (thousands separators,
2 decimals), times (naming the zone), the default thresholds, and the "not bound to your account"
refusal. Before they had one definition, the row and the e-mail rounded used % half-even while the
CSV rounded half-up, and the warning modal, alert history, Message Center and e-mails wrote money
without separators."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core import mail

from api.actions import ACTIONS, Context, run
from api.services import api_key_create
from core.errors import CustomerNotBound, InvalidValue
from core.rules import THRESHOLDS
from credits.services import credit_allocate, pool_grant, repayment_confirm
from customers.filters import USAGE_BANDS
from notifications import tasks
from notifications.models import Delivery, Message
from notifications.services import custom_warning_set, customer_alerts_evaluate
from notifications.transports import sms
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory, UserFactory
from tests.pages import body, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def admin():
    reseller = ResellerFactory(contact_email="ops@rules.example", contact_phone="+6580001111")  # Asia/Shanghai
    return MemberFactory(reseller=reseller, role="admin", user=UserFactory(username="rules-admin", email="admin@rules.example"))


def _alerted(customer):
    """Evaluate the customer and send every delivery its alert got, as the worker does."""
    customer_alerts_evaluate(customer_id=customer.pk)
    for delivery in Delivery.objects.filter(alert__customer=customer):
        assert tasks.delivery_send(delivery.pk) == "sent"


def _row(html: str, uin: int) -> str:
    return re.search(rf'<tr id="customer-{uin}".*?</tr>', html, re.S).group(0)


def test_used_percent_is_rounded_half_up_on_every_surface(admin):
    # 180.01 of 200 is 90.005 %: half-up 90.01, half-even 90.00.
    customer = CustomerFactory(reseller=admin.reseller, credit=Decimal("200.00"), used=Decimal("180.01"))
    client = client_for(admin.user)
    assert "90.01%" in _row(body(client.get("/customers/")), customer.uin)
    exported = list(csv.DictReader(io.StringIO(body(client.get("/customers/export.csv")).lstrip("\ufeff"))))
    assert [row["Used %"] for row in exported] == ["90.01"]

    _alerted(customer)
    assert "(90.01%)" in body(client.get(f"/customers/{customer.uin}/alerts/"))
    email = next(m for m in mail.outbox if m.to == ["ops@rules.example"])
    assert "180.01 USD (90.01%)" in email.body and "180.01 USD (90.01%)" in email.alternatives[0][0]
    contact_sms = next(s for s in sms.outbox if s["to"] == "+6580001111")
    assert "used 90.01%" in contact_sms["text"] and contact_sms["params"][2] == "90.01"
    assert "(90.01%)" in Message.objects.get(member=admin).body


def test_money_is_written_one_way_on_every_surface(admin):
    customer = CustomerFactory(reseller=admin.reseller, credit=Decimal("20000.00"), used=Decimal("18000.10"))
    client = client_for(admin.user)
    figures = ("20,000.00", "18,000.10", "1,999.90")
    row = _row(body(client.get("/customers/")), customer.uin)
    for page in (row, body(client.get(f"/customers/{customer.uin}/warning/")),
                 body(client.get(f"/customers/{customer.uin}/repayment/"))):
        assert all(figure in page for figure in ("20,000.00", "1,999.90")), page

    _alerted(customer)
    history = body(client.get(f"/customers/{customer.uin}/alerts/"))
    email = next(m for m in mail.outbox if m.to == ["ops@rules.example"])
    contact_sms = next(s for s in sms.outbox if s["to"] == "+6580001111")
    message = Message.objects.get(member=admin)
    for text in (history, email.body, email.alternatives[0][0], message.body):
        assert all(figure in text for figure in figures), text
    assert "1,999.90 USD" in contact_sms["text"] and contact_sms["params"][3] == "1,999.90"
    assert "20000.00" not in history + email.body + message.body + contact_sms["text"]


def test_a_refusal_writes_money_the_same_way(admin):
    customer = CustomerFactory(reseller=admin.reseller, credit=Decimal("5000.00"), used=Decimal("3000.00"))
    with pytest.raises(InvalidValue) as refused:
        repayment_confirm(reseller=admin.reseller, customer=customer, amount="3000.01", actor=admin.user,
                          idempotency_key="k1")
    assert "(3,000.00 USD)" in str(refused.value)


def test_times_name_the_resellers_zone(admin):
    customer = CustomerFactory(reseller=admin.reseller)
    pool_grant(reseller=admin.reseller, amount="100.00")
    credit_allocate(reseller=admin.reseller, customer=customer, amount="10.00", actor=admin.user)
    client = client_for(admin.user)
    records = body(client.get("/records/"))
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+8</td>", records)
    assert re.search(r'<td class="cell-time">\d{4}-\d\d-\d\d \d\d:\d\d UTC\+8</td>', _row(body(client.get("/customers/")), customer.uin))
    assert re.search(r"\d\d:\d\d:\d\d UTC\+8", body(client.get("/")))


def test_the_default_thresholds_come_from_one_place(admin):
    assert [int(value) for value, _ in USAGE_BANDS] == list(THRESHOLDS)
    overview = body(client_for(admin.user).get("/"))
    assert re.findall(r'href="/customers/\?band=(\d+)"', overview) == [str(t) for t in THRESHOLDS]
    customer = CustomerFactory(reseller=admin.reseller, credit=Decimal("100.00"), used=Decimal("50.00"))
    row = _row(body(client_for(admin.user).get("/customers/")), customer.uin)
    assert f'low="{THRESHOLDS[0]}" high="{THRESHOLDS[1]}"' in row


def test_not_bound_is_one_refusal_in_the_console_services_and_the_api(admin):
    stranger = CustomerFactory()  # another reseller's customer
    refusals = []
    for attempt in (
        lambda: credit_allocate(reseller=admin.reseller, customer=stranger.pk, amount="-1.00"),
        lambda: repayment_confirm(reseller=admin.reseller, customer=stranger, amount="1.00", actor=None, idempotency_key="k"),
        lambda: custom_warning_set(member=admin, customer=stranger, percent=10),
    ):
        with pytest.raises(CustomerNotBound) as refused:
            attempt()
        refusals.append(refused.value)
    key, _ = api_key_create(user=admin.user)
    context = Context(key=key, member=admin, request_id="test")
    for name, params in (("QueryCreditByUinList", {"UinList": [stranger.uin]}),
                         ("AllocateCustomerCredit", {"ClientUin": stranger.uin, "AddedCredit": 1})):
        with pytest.raises(CustomerNotBound) as refused:
            run(ACTIONS[name], context, params)
        refusals.append(refused.value)
    assert {refusal.code for refusal in refusals} == {"UnauthorizedOperation.UinNoAuth"}
    assert {refusal.message for refusal in refusals} == {
        "This customer does not exist or is not bound to your account.",
        f"Customer {stranger.uin} does not exist or is not bound to your account.",
    }
