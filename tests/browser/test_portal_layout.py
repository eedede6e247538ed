"""The customer portal at a phone (390x844) and a desktop (1440x900) size: sign-in, registration,
credit, usage, Message Center, notification settings and API key fit the window (nothing sticks
out sideways unless a scroll container holds it), every control is reachable, and the navigation
is there: the sidebar on a desktop, the menu button's drawer on a phone. One browser session for
all pages and both sizes; each page leaves a screenshot (portal-layout-NN-<size>-<page>.png)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from credits.services import credit_allocate, usage_charge_record
from notifications.models import Delivery
from notifications.services import deliveries_attempt
from notifications.services.status import customer_freeze
from tests.onboarding import PASSWORD, bound_customer, invite

from .test_layout import DESKTOP, OVERFLOWING, PHONE, REACHABLE

pytestmark = pytest.mark.browser

CONTROLS = "main :is(a, button, select, input:not([type=hidden]), textarea)"
NAV = ["Credit", "Usage", "Message Center", "Notification settings", "API key"]


def assert_fits(page, where: str) -> None:
    assert page.evaluate(OVERFLOWING) == [], where
    controls = page.locator(CONTROLS)
    assert controls.count() > 0, where
    for i in range(controls.count()):
        control = controls.nth(i)
        if control.is_visible():
            assert control.evaluate(REACHABLE), f"{control.inner_text()!r} on {where} is not reachable"
    page.evaluate("window.scrollTo(0, 0)")


def assert_choices_beside_their_words(page, where: str) -> None:
    """Each checkbox or radio starts its label's first line (not stretched across the field above it)."""
    choices = page.locator("main label:has(input:is([type=checkbox], [type=radio]))")
    assert choices.count() >= 2, where
    for i in range(choices.count()):
        label = choices.nth(i).bounding_box()
        box = choices.nth(i).locator("input").bounding_box()
        assert abs(box["x"] - label["x"]) <= 2 and abs(box["y"] - label["y"]) <= 8, f"{where}: {choices.nth(i).inner_text()!r}"


def test_the_portal_fits_a_phone_and_a_desktop(console, open_browser):
    reseller = console["reseller"]
    customer, user = bound_customer(reseller, email="accounts.payable@long-customer-name.example",
                                    name="Long Customer Name Holdings International")
    credit_allocate(reseller=reseller, customer=customer, amount="100.00", remark="First top-up")
    now = timezone.now()
    for day in range(12):
        for product in ("CVM", "COS", "CDN"):
            usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount="3.25",
                                incurred_at=now - timedelta(days=day), external_id=f"{product}-{day}", product=product)
    customer_freeze(reseller=reseller, customer=customer)
    deliveries_attempt(delivery_ids=list(Delivery.objects.values_list("id", flat=True)))
    _, token = invite(reseller, "new.applicant@long-customer-name.example")

    b = open_browser("portal-layout")
    page = b.page
    for size, viewport in (("390x844", PHONE), ("1440x900", DESKTOP)):
        page.set_viewport_size(viewport)
        page.context.clear_cookies()
        page.goto(f"/portal/register/{token}/")
        expect(page.get_by_role("button", name="Register")).to_be_visible()
        b.shot(f"{size} register")
        assert_fits(page, f"register at {size}")
        assert_choices_beside_their_words(page, f"register at {size}")
        page.goto("/portal/login/")
        b.shot(f"{size} sign-in")
        assert_fits(page, f"sign-in at {size}")
        page.get_by_label("E-mail address").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{b.base_url}/portal/")

        pages = [("/portal/", "credit", "Total credit"), ("/portal/usage/", "usage", "CVM"),
                 ("/portal/messages/", "message center", "frozen"), ("/portal/settings/", "settings", "credit notification"),
                 ("/portal/api-keys/", "api key", "API key")]
        for url, name, shown in pages:
            page.goto(url)
            expect(page.locator("main")).to_contain_text(shown, ignore_case=True)
            expect(page.locator(".bell .badge")).to_have_text("2")
            b.shot(f"{size} {name}")
            assert_fits(page, f"{name} at {size}")
            if name == "settings":
                assert_choices_beside_their_words(page, f"settings at {size}")

        # The navigation: on a phone behind the menu button, on a desktop always in the sidebar.
        sidebar = page.get_by_role("navigation", name="Main")
        button = page.get_by_role("button", name="Menu")
        if viewport is PHONE:
            assert page.locator("header.topbar").bounding_box()["height"] == 50
            expect(sidebar).to_be_hidden()
            button.click()
            expect(sidebar).to_be_visible()
            for label in NAV:
                expect(sidebar.get_by_role("link", name=label)).to_be_in_viewport()
            b.shot(f"{size} menu open")
            sidebar.get_by_role("link", name="Usage").click()
            expect(page).to_have_url(f"{b.base_url}/portal/usage/")
            expect(sidebar).to_be_hidden()
        else:
            expect(button).to_be_hidden()
            for label in NAV:
                expect(sidebar.get_by_role("link", name=label)).to_be_in_viewport()
        # The user menu (language switch, sign out) opens inside the window.
        page.locator(".user-menu summary").click()
        items = page.locator(".user-menu .menu-items button")
        expect(items.first).to_be_visible()
        for i in range(items.count()):
            box = items.nth(i).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1, items.nth(i).inner_text()
        b.shot(f"{size} user menu")
        assert page.evaluate(OVERFLOWING) == []
        page.keyboard.press("Escape")
