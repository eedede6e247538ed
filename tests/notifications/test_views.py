import pytest

from customers.models import Customer, Member, Reseller
from notifications.models import Message
from notifications.services import customer_alerts_evaluate
from notifications.tasks import delivery_send
from tests.factories import MemberFactory, UserFactory

from .conftest import set_usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(shop):
    return MemberFactory(reseller=shop.reseller, role="operator", user=UserFactory(username="shop-op", email="op@shop.example"))


@pytest.fixture
def stranger(db):
    return MemberFactory(role="admin", user=UserFactory(username="stranger"))


def login(client, member):
    client.force_login(member.user)
    return client


@pytest.fixture
def inbox(shop):
    set_usage(shop.customer, used="95.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    for delivery in shop.customer.alerts.get(covered=False).deliveries.filter(channel="inbox"):
        delivery_send(delivery.pk)
    return shop


def test_bell_shows_the_unread_count_and_the_list_links_to_the_customer(client, inbox):
    response = login(client, inbox.admin).get("/messages/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="badge" aria-hidden="true">1</span><span class="sr-only">1 unread</span>' in html
    assert "&#128276;" not in html and "\U0001f514" not in html and '<svg class="bell-icon"' in html
    assert f"/customers/{inbox.customer.uin}/alerts/" in html and "has used 90% of its credit" in html


def test_unread_filter_mark_read_and_mark_all_read(client, inbox):
    c = login(client, inbox.admin)
    message = Message.objects.get(member=inbox.admin)
    assert message.title in c.get("/messages/?state=unread").content.decode()
    response = c.post(f"/messages/{message.pk}/read/", {"next": "/messages/?state=unread"})
    assert response.status_code == 302 and response["Location"] == "/messages/?state=unread"
    message.refresh_from_db()
    assert message.read_at is not None
    assert message.title not in c.get("/messages/?state=unread").content.decode()
    assert message.title in c.get("/messages/?state=read").content.decode()
    # the viewer's own inbox is untouched, and marks all its own read
    viewer_message = Message.objects.get(member=inbox.viewer)
    assert viewer_message.read_at is None
    response = login(client, inbox.viewer).post("/messages/read-all/")
    assert response.status_code == 302
    viewer_message.refresh_from_db()
    assert viewer_message.read_at is not None


def test_another_members_message_cannot_be_marked(client, inbox, stranger):
    message = Message.objects.get(member=inbox.admin)
    response = login(client, stranger).post(f"/messages/{message.pk}/read/")
    assert response.status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


@pytest.mark.parametrize("url", ["/messages/", "/settings/", "/customers/1/alerts/", "/customers/1/warning/"])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_alert_history_shows_each_delivery(client, inbox):
    html = login(client, inbox.viewer).get(f"/customers/{inbox.customer.uin}/alerts/").content.decode()
    # Each alert in the sentence the e-mail, SMS and Message Center use.
    assert f"{inbox.customer.name} (UIN {inbox.customer.uin}) has used 90% of its credit" in html and "Covered" in html
    assert "ops@shop.example" in html and "Pending" in html and "Sent" in html and "attempt" in html


def test_alert_history_of_another_resellers_customer_is_404(client, inbox, stranger):
    assert login(client, stranger).get(f"/customers/{inbox.customer.uin}/alerts/").status_code == 404


def test_custom_warning_page_modal_and_save(client, shop, operator, enqueued):
    c = login(client, operator)
    url = f"/customers/{shop.customer.uin}/warning/"
    page = c.get(url)
    assert page.status_code == 200 and "<html" in page.content.decode()
    fragment = c.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal")
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert body.lstrip().startswith("<dialog") and "<html" not in body
    with enqueued() as sent:
        response = c.post(url, {"percent": "30"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal")
    assert response.status_code == 204
    assert "closeModal" in response["HX-Trigger"] and "customerUpdated" in response["HX-Trigger"]
    assert sent == [("notifications.tasks.customer_evaluate", (shop.customer.pk,))]
    assert Customer.objects.get(pk=shop.customer.pk).custom_warning_percent == 30
    response = c.post(url, {"percent": ""})
    assert response.status_code == 302
    assert Customer.objects.get(pk=shop.customer.pk).custom_warning_percent is None


@pytest.mark.parametrize("value", ["101", "-1", "12.5", "abc"])
def test_custom_warning_refuses_bad_values_in_the_modal(client, shop, operator, value):
    response = login(client, operator).post(f"/customers/{shop.customer.uin}/warning/", {"percent": value},
                                            HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal")
    assert response.status_code == 200 and "field-error" in response.content.decode()
    assert Customer.objects.get(pk=shop.customer.pk).custom_warning_percent is None


def test_custom_warning_viewer_403_stranger_404(client, shop, stranger):
    url = f"/customers/{shop.customer.uin}/warning/"
    assert login(client, shop.viewer).post(url, {"percent": "10"}).status_code == 403
    assert login(client, stranger).post(url, {"percent": "10"}).status_code == 404
    assert Customer.objects.get(pk=shop.customer.pk).custom_warning_percent is None


def reseller_form(**overrides):
    data = {"form": "reseller", "contact_email": "new@shop.example", "contact_phone": "+6581112222",
            "contact_alert_email": "on", "customer_alerts_enabled": "on", "customer_alert_inbox": "on"}
    data.update(overrides)
    return data


def test_admin_changes_reseller_wide_settings(client, shop):
    response = login(client, shop.admin).post("/settings/", reseller_form())
    assert response.status_code == 302
    r = Reseller.objects.get(pk=shop.reseller.pk)
    assert (r.contact_email, r.contact_phone) == ("new@shop.example", "+6581112222")
    assert (r.contact_alert_email, r.contact_alert_sms, r.customer_alerts_enabled, r.customer_alert_email,
            r.customer_alert_sms, r.customer_alert_inbox) == (True, False, True, False, False, True)


def test_bad_contact_phone_is_refused(client, shop):
    response = login(client, shop.admin).post("/settings/", reseller_form(contact_phone="call me"))
    assert response.status_code == 200 and "international form" in response.content.decode()
    assert Reseller.objects.get(pk=shop.reseller.pk).contact_phone == "+6580001111"


@pytest.mark.parametrize("who", ["operator", "viewer"])
def test_only_admins_change_reseller_wide_settings(client, shop, operator, who):
    member = operator if who == "operator" else shop.viewer
    assert login(client, member).post("/settings/", reseller_form()).status_code == 403
    assert Reseller.objects.get(pk=shop.reseller.pk).contact_email == "ops@shop.example"


def channels(member, **values):
    prefix = f"member-{member.pk}-"
    data = {"form": "member", "member": str(member.pk)}
    data.update({prefix + k: v for k, v in values.items()})
    return data


def test_a_member_changes_their_own_channels_but_not_others(client, shop, operator):
    c = login(client, shop.viewer)
    response = c.post("/settings/", channels(shop.viewer, phone="+6587776666", alert_sms="on", alert_inbox="on"))
    assert response.status_code == 302
    viewer = Member.objects.get(pk=shop.viewer.pk)
    assert (viewer.phone, viewer.alert_email, viewer.alert_sms, viewer.alert_inbox) == ("+6587776666", False, True, True)
    assert c.post("/settings/", channels(operator, alert_email="on")).status_code == 403
    assert Member.objects.get(pk=operator.pk).alert_inbox is True


def test_admin_changes_any_members_channels_and_sms_needs_a_phone(client, shop, operator):
    c = login(client, shop.admin)
    response = c.post("/settings/", channels(operator, alert_sms="on"))
    assert response.status_code == 200 and "Enter a phone number" in response.content.decode()
    assert Member.objects.get(pk=operator.pk).alert_sms is False
    assert c.post("/settings/", channels(operator, alert_email="on")).status_code == 302
    assert Member.objects.get(pk=operator.pk).alert_inbox is False


def test_member_of_another_reseller_is_404_in_settings(client, shop, stranger):
    assert login(client, shop.admin).post("/settings/", channels(stranger, alert_email="on")).status_code == 404


def test_settings_page_renders_for_every_role(client, shop, operator):
    for member in (shop.admin, operator, shop.viewer):
        html = login(client, member).get("/settings/").content.decode()
        assert "Members' alert channels" in html and "shop-viewer" in html
    assert "Save alert settings" not in login(client, shop.viewer).get("/settings/").content.decode()


def test_admin_lists_deliveries_and_retries_failed_ones(client, inbox, enqueued):
    from django.contrib.auth import get_user_model

    from notifications.models import Delivery

    admin = get_user_model().objects.create_superuser("platform", "p@example.com", "pw-platform-123")
    client.force_login(admin)
    failed = Delivery.objects.filter(channel="email").first()
    Delivery.objects.filter(pk=failed.pk).update(status="failed", attempts=6, last_error="550 no such user")
    sent = Delivery.objects.filter(status="sent").first()
    page = client.get("/admin/notifications/delivery/?status__exact=failed")
    assert page.status_code == 200 and "550 no such user" in page.content.decode()
    with enqueued() as queued:
        response = client.post("/admin/notifications/delivery/", {
            "action": "retry_failed", "_selected_action": [failed.pk, sent.pk]})
    assert response.status_code == 302
    assert queued == [("notifications.tasks.delivery_send", (failed.pk,))]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert Delivery.objects.get(pk=sent.pk).status == "sent"


def test_customer_channels_modal_saves_and_the_history_page_shows_them(client, shop, operator):
    c = login(client, operator)
    url = f"/customers/{shop.customer.uin}/channels/"
    assert "<html" in c.get(url).content.decode()
    fragment = c.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal").content.decode()
    assert fragment.lstrip().startswith("<dialog") and "bill@cust.example" in fragment
    response = c.post(url, {"alert_email": "on"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal")
    assert response.status_code == 204
    assert "closeModal" in response["HX-Trigger"] and "customerUpdated" in response["HX-Trigger"]
    customer = Customer.objects.get(pk=shop.customer.pk)
    assert (customer.alert_email, customer.alert_sms, customer.alert_inbox) == (True, False, False)
    history = c.get(f"/customers/{shop.customer.uin}/alerts/").content.decode()
    assert "<dt>Alerts to the customer</dt><dd>E-mail\n" in history
    response = c.post(url, {"alert_sms": "on", "alert_inbox": "on"})  # without JavaScript
    assert response.status_code == 302 and response["Location"] == f"/customers/{shop.customer.uin}/alerts/"
    customer.refresh_from_db()
    assert (customer.alert_email, customer.alert_sms, customer.alert_inbox) == (False, True, True)


def test_customer_channels_say_when_the_reseller_switched_customer_alerts_off(client, shop, operator):
    Reseller.objects.filter(pk=shop.reseller.pk).update(customer_alerts_enabled=False)
    c = login(client, operator)
    modal = c.get(f"/customers/{shop.customer.uin}/channels/", HTTP_HX_REQUEST="true").content.decode()
    assert "switched off for your whole account" in modal
    history = c.get(f"/customers/{shop.customer.uin}/alerts/").content.decode()
    assert "<dt>Alerts to the customer</dt><dd>none\n" in history


def test_customer_channels_viewer_403_stranger_404_anonymous_sign_in(client, shop, stranger):
    url = f"/customers/{shop.customer.uin}/channels/"
    assert client.get(url).status_code == 302
    assert login(client, shop.viewer).post(url, {}).status_code == 403
    assert login(client, stranger).post(url, {}).status_code == 404
    customer = Customer.objects.get(pk=shop.customer.pk)
    assert (customer.alert_email, customer.alert_sms, customer.alert_inbox) == (True, True, True)


def test_the_bell_and_the_message_center_count_no_further_than_they_show(client, inbox, monkeypatch):
    """A member of a big reseller holds a million messages: the bell counts up to 99 ("99+") and
    the Message Center's pages are counted up to the console's cap."""
    from console.tables import CappedCountPaginator
    from notifications import selectors
    from notifications.models import Delivery

    set_usage(inbox.customer, used="100.00")
    customer_alerts_evaluate(customer_id=inbox.customer.pk)
    for delivery in Delivery.objects.filter(channel="inbox", status="pending"):
        delivery_send(delivery.pk)
    assert Message.objects.filter(member=inbox.admin, read_at__isnull=True).count() == 2
    monkeypatch.setattr(selectors, "UNREAD_SHOWN_MAX", 1)
    monkeypatch.setattr(CappedCountPaginator, "cap", 1)
    html = login(client, inbox.admin).get("/messages/?per_page=10").content.decode()
    assert '<span class="badge" aria-hidden="true">1+</span><span class="sr-only">1+ unread</span>' in html
    assert "1–1 of 1+" in html  # the console's pager, with its capped count
