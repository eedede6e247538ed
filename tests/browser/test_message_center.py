"""Issue 14, item 13 in a real browser: the bell's count changes while the page is open (htmx
polling), its menu lists the newest messages, and the Message Center marks a selection read."""

import pytest
from playwright.sync_api import expect

from notifications.models import Alert, Message
from tests.notifications.test_message_center import message

pytestmark = pytest.mark.browser


def test_the_bell_counts_while_the_page_is_open_and_a_selection_is_marked_read(console, open_browser, settings):
    settings.MESSAGE_BELL_POLL_SECONDS = 1
    operator = console["operator"]
    acme, blue = console["customers"][:2]
    b = open_browser()
    b.sign_in_as(operator.user)
    page = b.page
    page.goto("/customers/")
    page.evaluate("window.notReloaded = true")
    count = page.locator("#bell-count")
    expect(count).to_have_text("0 unread")
    expect(count.locator(".badge")).to_have_count(0)

    # Alerts arrive while the page is open: the bell says so within a poll or two, without a reload.
    message(operator, acme, threshold=90)
    message(operator, blue, kind=Alert.Kind.REARMED, threshold=75, day=2)
    expect(count.locator(".badge")).to_have_text("2", timeout=5000)
    assert page.evaluate("window.notReloaded") is True

    # The bell opens a menu of the newest messages, in plain words.
    page.locator("#bell summary").click()
    menu = page.locator("#bell .bell-items")
    expect(menu.locator(".bell-item")).to_have_count(2)
    expect(menu).to_contain_text(f"{blue.name} (UIN {blue.uin}) is back under 75% of its credit")
    b.shot("bell menu")
    menu.get_by_role("link", name="Open Message Center").click()

    expect(page.locator("#messages tbody tr")).to_have_count(2)
    page.get_by_label("Select all on this page").check()
    expect(page.locator('#messages input[name="ids"]:checked')).to_have_count(2)
    b.shot("message center selected")
    page.get_by_role("button", name="Mark selected read").click()
    expect(page.locator(".messages")).to_contain_text("Marked 2 messages read.")
    expect(page.locator("#messages tbody tr.nc-unread")).to_have_count(0)
    expect(count.locator(".badge")).to_have_count(0)
    assert Message.objects.filter(member=operator, read_at__isnull=True).count() == 0
    b.shot("marked read")
