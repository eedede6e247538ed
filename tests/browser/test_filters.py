"""A filter value the list cannot use is marked beside its field, in place (htmx), and the list
shows nothing rather than the wrong rows (issue 8, defect 7)."""

import pytest
from playwright.sync_api import expect

from credits.services import credit_allocate

pytestmark = pytest.mark.browser


def test_record_filter_errors_show_beside_the_field(console, open_browser):
    customer = console["customers"][0]
    credit_allocate(reseller=console["reseller"], customer=customer, amount="25.00")
    b = open_browser()
    b.sign_in_as(console["operator"].user)
    page = b.page
    page.goto("/records/")
    rows = page.locator("#records tbody tr")
    expect(rows).to_have_count(1)

    page.get_by_label("Customer UIN").fill("abc")
    page.get_by_label("Customer UIN").press("Tab")
    expect(page.locator("#id_uin_error")).to_have_text("Enter a customer UIN: a whole number of up to 19 digits 0-9, such as 100012345678.")
    expect(rows).to_have_count(1)
    expect(rows.locator(".empty-title")).to_have_text("No records shown: correct the filters marked above.")
    expect(page.get_by_role("link", name="Export CSV")).to_have_count(0)
    expect(page.get_by_label("Operator")).to_be_focused()  # the swap left the keyboard where it was
    b.shot("uin error")

    page.get_by_label("Customer UIN").fill(str(customer.uin))
    page.get_by_label("Customer UIN").press("Tab")
    expect(page.locator("#id_uin_error")).to_be_empty()
    expect(rows).to_have_count(1)

    with page.expect_response(lambda response: "date_from=2026-05-02" in response.url):
        page.get_by_label("From", exact=True).fill("2026-05-02")
        page.get_by_label("From", exact=True).press("Tab")  # a text field: its change is on leaving it
    page.get_by_label("To", exact=True).fill("2026-05-01")
    page.get_by_label("To", exact=True).press("Tab")
    expect(page.locator("#id_date_to_error")).to_have_text("“To” is before “From”: pick 2026-05-02 or a later day.")
    expect(page.locator("#id_date_from_error")).to_be_empty()
    b.shot("to before from")

    # The same page loaded from its address (a bookmark, a reload) shows the same.
    page.reload()
    expect(page.locator("#id_date_to_error")).to_contain_text("“To” is before “From”")
    expect(page.get_by_label("To", exact=True)).to_have_attribute("aria-invalid", "true")


def test_customer_filter_errors_show_beside_the_field(console, open_browser):
    b = open_browser()
    b.sign_in_as(console["operator"].user)
    page = b.page
    page.goto("/customers/?status=gone")
    expect(page.locator("#id_status_error")).to_contain_text("Select a valid choice.")
    expect(page.locator("#customer-table tbody tr")).to_have_count(1)
    expect(page.locator("#customer-table tbody tr .empty-title")).to_have_text("No customers shown: correct the search or filters marked above.")
    page.get_by_label("Account status").select_option("")
    expect(page.locator("#id_status_error")).to_be_empty()
    expect(page.locator("#customer-table tbody tr")).to_have_count(len(console["customers"]))
