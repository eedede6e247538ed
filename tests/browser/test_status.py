"""Freeze a customer from My Customers (row menu, confirmation), see its status and timeline change,
unfreeze it."""

from playwright.sync_api import expect

from customers.models import CustomerBalance, StatusEvent


def test_freeze_see_the_timeline_and_unfreeze(console, open_browser):
    customer = console["customers"][0]
    b = open_browser()
    b.sign_in_as(console["operator"].user)
    page = b.page
    page.goto("/customers/")
    row = page.locator(f"#customer-{customer.uin}")
    expect(row).to_contain_text("Normal")

    row.get_by_text("More", exact=True).click()
    row.get_by_role("link", name="Freeze").click()
    dialog = page.locator("dialog.modal[open]")
    expect(dialog.get_by_role("heading", name="Freeze customer")).to_be_visible()
    expect(dialog).to_contain_text("stops this customer from making new purchases")
    b.shot("freeze confirmation")
    assert not CustomerBalance.objects.get(pk=customer.pk).frozen
    dialog.get_by_role("button", name="Freeze").click()
    expect(page.locator("#toasts")).to_contain_text("Customer frozen")
    expect(page.locator("dialog.modal")).to_have_count(0)
    expect(row.locator(".status")).to_have_text("Frozen")
    b.shot("frozen")

    row.get_by_text("More", exact=True).click()
    row.get_by_role("link", name="Status history").click()
    timeline = page.locator("dialog.modal[open] #status-history")
    expect(timeline.locator(".timeline-event")).to_have_count(1)
    expect(timeline).to_contain_text("Normal → Frozen")
    expect(timeline).to_contain_text("operator")
    b.shot("status history")
    page.keyboard.press("Escape")
    expect(page.locator("dialog.modal")).to_have_count(0)

    row.get_by_text("More", exact=True).click()
    row.get_by_role("link", name="Unfreeze").click()
    dialog = page.locator("dialog.modal[open]")
    expect(dialog.get_by_role("heading", name="Unfreeze customer")).to_be_visible()
    dialog.get_by_role("button", name="Unfreeze").click()
    expect(page.locator("#toasts")).to_contain_text("Customer unfrozen")
    expect(row.locator(".status")).to_have_text("Normal")
    b.shot("unfrozen")
    assert list(StatusEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True)) == [
        "frozen", "unfrozen"]
    assert b.errors == []
