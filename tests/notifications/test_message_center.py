"""Issue 14, item 13: the Message Center's compact table, its filters, marking a selection read,
and the bell (its polled count and its menu of the newest messages)."""

import re

import pytest

from notifications.models import Alert, Delivery, Message
from notifications.services import messages_mark_read
from tests.factories import CustomerFactory, MemberFactory, UserFactory
from tests.pages import body, htmx

from .conftest import set_usage

pytestmark = pytest.mark.django_db


def message(member, customer, *, kind=Alert.Kind.THRESHOLD, threshold=90, day=1, read=False) -> Message:
    """A Message Center message as the inbox transport writes it: an alert, its inbox delivery, the message."""
    import datetime

    from django.utils import timezone

    alert = Alert.objects.create(reseller=customer.reseller, customer=customer, kind=kind, threshold=threshold,
                                 day=datetime.date(2026, 11, day), credit=100, used=threshold, available=100 - threshold)
    delivery = Delivery.objects.create(alert=alert, recipient_kind="member", member=member, recipient_key=f"member:{member.pk}",
                                       channel="inbox", status="sent", sent_at=timezone.now())
    return Message.objects.create(reseller=customer.reseller, member=member, customer=customer, alert=alert,
                                  delivery=delivery, title=alert.sentence(), body="Credit 100.00 USD",
                                  read_at=timezone.now() if read else None)


def ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'<tr id="message-(\d+)"', html)}


@pytest.fixture
def mailbox(shop):
    other = CustomerFactory(reseller=shop.reseller, name="Second Shop", uin=310000000001)
    made = {
        "ninety": message(shop.admin, shop.customer, threshold=90),
        "full": message(shop.admin, shop.customer, threshold=100, day=2, read=True),
        "back": message(shop.admin, other, kind=Alert.Kind.REARMED, threshold=75, day=3),
        "custom": message(shop.admin, other, kind=Alert.Kind.CUSTOM, threshold=20, day=4),
        "viewers": message(shop.viewer, shop.customer, threshold=75, day=5),
    }
    return type("Mailbox", (), {"shop": shop, "other": other, **made})


def test_the_list_is_a_compact_table_with_the_consoles_pager(client, mailbox):
    client.force_login(mailbox.shop.admin.user)
    html = body(client.get("/messages/"))
    assert '<table class="table table-compact" id="messages">' in html
    assert ids(html) == {mailbox.ninety.pk, mailbox.full.pk, mailbox.back.pk, mailbox.custom.pk}  # not the viewer's
    assert '<nav class="pager" aria-label="Pages"' in html and "1–4 of 4" in html
    assert f'name="ids" value="{mailbox.ninety.pk}" form="message-selection"' in html
    assert "Re-armed" not in html and "Second Shop (UIN 310000000001) is back under 75% of its credit" in html


@pytest.mark.parametrize(("query", "expected"), [
    ("state=unread", {"ninety", "back", "custom"}),
    ("state=read", {"full"}),
    ("customer=second", {"back", "custom"}),
    ("customer=3100000", {"back", "custom"}),  # the first digits of its UIN
    ("alert=90", {"ninety"}),
    ("alert=100", {"full"}),
    ("alert=custom", {"custom"}),
    ("alert=back", {"back"}),
    ("alert=back&customer=second&state=unread", {"back"}),
])
def test_filters_by_status_customer_and_alert(client, mailbox, query, expected):
    client.force_login(mailbox.shop.admin.user)
    assert ids(body(client.get(f"/messages/?{query}"))) == {getattr(mailbox, name).pk for name in expected}
    fragment = body(client.get(f"/messages/?{query}", **htmx("message-table")))
    assert fragment.lstrip().startswith('<div id="message-table"') and ids(fragment) == {getattr(mailbox, n).pk for n in expected}


def test_a_filter_value_it_cannot_use_is_said_beside_the_field(client, mailbox):
    client.force_login(mailbox.shop.admin.user)
    html = body(client.get("/messages/?alert=50"))
    assert ids(html) == set() and 'id="id_alert_error"' in html and "50 is not one of the available choices" in html
    assert "No messages shown: correct the filters marked above." in html


def test_mark_the_selected_messages_read(client, mailbox):
    client.force_login(mailbox.shop.admin.user)
    selection = [mailbox.ninety.pk, mailbox.back.pk, mailbox.viewers.pk]  # the last is another member's
    response = client.post("/messages/read/", {"ids": selection, "next": "/messages/?state=unread"})
    assert response.status_code == 302 and response["Location"] == "/messages/?state=unread"
    read = set(Message.objects.filter(read_at__isnull=False).values_list("pk", flat=True))
    assert read == {mailbox.ninety.pk, mailbox.back.pk, mailbox.full.pk}
    assert "Marked 2 messages read." in body(client.get("/messages/"))


@pytest.mark.parametrize(("selection", "error"), [
    ([], "Select at least one message to mark read."),
    (["1", "x"], "The selection was altered"),
    ([str(n) for n in range(1, 102)], "Select at most 100 messages at a time."),
])
def test_a_bad_selection_is_refused_and_marks_nothing(client, mailbox, selection, error):
    client.force_login(mailbox.shop.admin.user)
    client.post("/messages/read/", {"ids": selection + [str(mailbox.ninety.pk)] if selection else []})
    assert Message.objects.filter(read_at__isnull=False).count() == 1
    assert error in body(client.get("/messages/"))


def test_a_read_only_member_marks_its_own_messages(client, mailbox):
    client.force_login(mailbox.shop.viewer.user)
    assert client.post("/messages/read/", {"ids": [mailbox.viewers.pk, mailbox.ninety.pk]}).status_code == 302
    assert set(Message.objects.filter(read_at__isnull=False).values_list("pk", flat=True)) == {
        mailbox.viewers.pk, mailbox.full.pk}


def test_the_service_marks_only_the_members_own_unread_messages(mailbox):
    assert messages_mark_read(member=mailbox.shop.admin, message_ids=[mailbox.viewers.pk, mailbox.full.pk]) == 0
    assert messages_mark_read(member=mailbox.shop.admin, message_ids=[str(mailbox.custom.pk)]) == 1
    assert Message.objects.get(pk=mailbox.viewers.pk).read_at is None


def test_marking_needs_a_member_and_post(client, mailbox):
    assert client.post("/messages/read/", {"ids": [mailbox.ninety.pk]}).status_code == 302  # to sign in
    assert Message.objects.get(pk=mailbox.ninety.pk).read_at is None
    client.force_login(mailbox.shop.admin.user)
    assert client.get("/messages/read/").status_code == 405


def test_the_bell_polls_its_count_and_opens_a_menu_of_the_newest(client, mailbox, settings):
    settings.MESSAGE_BELL_POLL_SECONDS = 7
    client.force_login(mailbox.shop.admin.user)
    page = body(client.get("/customers/"))
    assert 'hx-get="/messages/bell/" hx-trigger="every 7s" hx-swap="outerHTML"' in page
    count = body(client.get("/messages/bell/", **htmx("bell-count")))
    assert count.startswith('<span id="bell-count"') and '<span class="badge" aria-hidden="true">3</span>' in count
    Message.objects.filter(member=mailbox.shop.admin).update(read_at="2026-11-30T00:00:00Z")
    count = body(client.get("/messages/bell/", **htmx("bell-count")))
    assert "badge" not in count and "0 unread" in count
    menu = body(client.get("/messages/bell/?part=menu"))
    assert menu.count('class="bell-item') == 4 and "Open Message Center" in menu
    assert mailbox.viewers.title not in menu  # the viewer's own message


def test_the_bell_of_another_reseller_shows_only_its_own(client, mailbox):
    stranger = MemberFactory(role="admin", user=UserFactory(username="stranger"))
    client.force_login(stranger.user)
    assert "badge" not in body(client.get("/messages/bell/"))
    assert 'class="bell-item' not in body(client.get("/messages/bell/?part=menu"))
    assert ids(body(client.get("/messages/"))) == set()


def test_signed_out_the_poll_stops_instead_of_loading_the_sign_in_page(client):
    response = client.get("/messages/bell/", **htmx("bell-count"))
    assert response.status_code == 286 and response.content == b""  # htmx: stop polling
    client.force_login(UserFactory(username="no-reseller"))  # a user of no reseller polls nothing either
    response = client.get("/messages/bell/", **htmx("bell-count"))
    assert response.status_code == 286 and response.content == b""


def test_the_alert_history_says_back_under_in_plain_words(client, shop):
    set_usage(shop.customer, used="80.00")
    from notifications.services import customer_alerts_evaluate

    customer_alerts_evaluate(customer_id=shop.customer.pk)
    set_usage(shop.customer, used="10.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    client.force_login(shop.admin.user)
    html = body(client.get(f"/customers/{shop.customer.uin}/alerts/"))
    assert "Re-armed" not in html and "Back under the threshold since" in html and "is back under 75% of its credit" in html


def test_each_row_links_the_customer_and_its_alerts_and_says_whether_it_is_read(client, mailbox):
    """The table writes its rows itself (notifications.tables.MessageTable.render_row): every cell, escaped."""
    mailbox.other.name = 'Shop <b>"&'
    mailbox.other.save(update_fields=["name"])
    Message.objects.filter(pk=mailbox.back.pk).update(title="Back <under> 75 %", body='Body "quoted" & <b>')
    client.force_login(mailbox.shop.admin.user)
    html = body(client.get("/messages/"))
    row = html.split(f'<tr id="message-{mailbox.back.pk}"', 1)[1].split("</tr>", 1)[0]
    assert row.startswith(' class="nc-unread">')
    assert (f'<td class="cell-select"><input type="checkbox" name="ids" value="{mailbox.back.pk}" form="message-selection" '
            'aria-label="Select: Back &lt;under&gt; 75 %"></td>') in row
    assert ('<td class="cell-name"><a href="/customers/310000000001/">Shop &lt;b&gt;&quot;&amp;</a> '
            '<span class="muted mono">310000000001</span></td>') in row
    assert ('<td class="cell-message"><a href="/customers/310000000001/alerts/" title="Body &quot;quoted&quot; &amp; &lt;b&gt;">'
            "Back &lt;under&gt; 75 %</a></td>") in row
    assert '<strong class="nc-state-unread">Unread</strong>' in row
    read = html.split(f'<tr id="message-{mailbox.full.pk}"', 1)[1].split("</tr>", 1)[0]
    assert read.startswith(">") and '<span class="muted">Read</span>' in read and "nc-unread" not in read


def test_a_customer_search_finding_few_messages_sorts_what_it_found(client, mailbox):
    """As My Customers (console.tables.sorted_after_read): searched, the page is the same, newest
    first, read whole and sorted; unsearched it walks the inbox's index."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(mailbox.shop.admin.user)
    for query, sorted_after_read in (("customer=shop", True), ("state=unread", False)):
        with CaptureQueriesContext(connection) as queries:
            html = body(client.get(f"/messages/?{query}"))
        [page] = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "notifications_message" in q["sql"]
                  and "COUNT(" not in q["sql"] and "LIMIT" in q["sql"] and "ORDER BY" in q["sql"]]
        assert ("COALESCE" in page[page.index("ORDER BY"):]) == sorted_after_read
        listed = [int(pk) for pk in re.findall(r'<tr id="message-(\d+)"', html)]
        expected = Message.objects.filter(member=mailbox.shop.admin, pk__in=listed).order_by("-created_at", "-id")
        assert listed == list(expected.values_list("pk", flat=True)) and listed
