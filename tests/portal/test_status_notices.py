"""Account status notices (DESIGN §4) in the customer's own portal: overdue and frozen reach its
Message Center in words addressed to it, in its language, counted by its bell; another customer's
portal shows none of them."""

import pytest
from django.utils import timezone

from credits.services import credit_allocate, pool_grant, usage_charge_record
from customers.models import Customer
from notifications.models import Delivery, Message
from notifications.services import deliveries_attempt
from notifications.services.status import customer_freeze
from tests.onboarding import bound_customer
from tests.pages import body, client_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def overdue_and_frozen(reseller):
    """A bound customer with a portal login, gone overdue through usage and then frozen by its
    reseller, every notice delivered; and a second customer of the same reseller."""
    pool_grant(reseller=reseller, amount="1000.00")
    customer, user = bound_customer(reseller, email="late@client.example", name="Late Payer")
    other, other_user = bound_customer(reseller, email="prompt@client.example", name="Prompt Payer")
    credit_allocate(reseller=reseller, customer=customer, amount="100.00", source="system")
    usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount="150.00", incurred_at=timezone.now(),
                        external_id="late-1")
    customer_freeze(reseller=reseller, customer=customer)
    deliveries_attempt(delivery_ids=list(Delivery.objects.values_list("id", flat=True)))
    return customer, user, other_user


def test_overdue_and_frozen_notices_are_in_the_customers_message_center(overdue_and_frozen):
    customer, user, other_user = overdue_and_frozen
    titles = list(Message.objects.filter(customer=customer, for_customer=True).order_by("id")
                  .values_list("title", flat=True))
    assert len(titles) == 2, titles
    assert titles[0].startswith("Your account") and "overdue" in titles[0]
    assert titles[1].startswith("Your account") and "frozen" in titles[1]
    client = client_for(user)
    html = body(client.get("/portal/messages/"))
    for title in titles:
        assert title in html
    # Newest first, both unread, counted by the bell.
    assert html.index(titles[1]) < html.index(titles[0])
    assert 'aria-label="Message Center, 2 unread"' in html and '<span class="badge">2</span>' in html
    assert html.count("nc-unread") == 2
    assert '<span class="badge">2</span>' in body(client.get("/portal/"))
    # Marked read: the bell stops counting.
    client.post("/portal/messages/read-all/")
    assert '<span class="badge">' not in body(client.get("/portal/"))
    # Another customer of the reseller sees none of them.
    other = body(client_for(other_user).get("/portal/messages/"))
    assert titles[0] not in other and titles[1] not in other and '<span class="badge">' not in other


def test_a_chinese_customer_reads_its_status_notices_in_chinese(reseller):
    pool_grant(reseller=reseller, amount="1000.00")
    customer, user = bound_customer(reseller, email="cn@client.example", name="Chinese Client")
    Customer.objects.filter(pk=customer.pk).update(language="zh-hans")
    credit_allocate(reseller=reseller, customer=customer, amount="100.00", source="system")
    customer_freeze(reseller=reseller, customer=customer)
    deliveries_attempt(delivery_ids=list(Delivery.objects.values_list("id", flat=True)))
    [message] = Message.objects.filter(customer=customer, for_customer=True)
    assert message.title.startswith("您的账号"), message.title
    html = body(client_for(user).get("/portal/messages/"))
    assert message.title in html and "消息中心" in html
