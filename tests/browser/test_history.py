"""Issue 14, item 8: after a search, Back and Forward restore the list and the search form together."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer, CustomerBalance

pytestmark = pytest.mark.browser


def test_back_and_forward_restore_the_search_box_with_the_list(console, open_browser):
    acme, blue, coral, delta, ember = console["customers"]
    Customer.objects.filter(pk__in=[acme.pk, blue.pk, delta.pk]).update(remark="VIP")
    CustomerBalance.objects.filter(pk=delta.pk).update(frozen=True)
    b = open_browser()
    b.sign_in_as(console["operator"].user)
    page = b.page
    page.goto("/customers/")
    box = page.get_by_placeholder("UIN, name, remark or email")
    rows = page.locator("#customers tbody tr")
    status = page.locator("#id_status")

    def agree(url: str, search: str, state: str, count: int):
        expect(page).to_have_url(re.compile(url))
        expect(box).to_have_value(search)
        expect(status).to_have_value(state)
        expect(rows).to_have_count(count)

    box.fill("vip")
    agree(r"q=vip&status=&", "vip", "", 3)
    status.select_option("frozen")
    agree(r"q=vip&status=frozen", "vip", "frozen", 1)
    box.fill("blue")
    expect(page.locator("#customers tbody")).to_contain_text("No customers")
    expect(page).to_have_url(re.compile(r"q=blue&status=frozen"))

    page.go_back()
    agree(r"q=vip&status=frozen", "vip", "frozen", 1)
    b.shot("back to vip and frozen")
    page.go_back()
    agree(r"q=vip&status=&", "vip", "", 3)
    page.go_back()
    agree(r"/customers/$", "", "", 5)
    b.shot("back to the whole list")
    page.go_forward()
    agree(r"q=vip&status=&", "vip", "", 3)
    page.go_forward()
    agree(r"q=vip&status=frozen", "vip", "frozen", 1)
