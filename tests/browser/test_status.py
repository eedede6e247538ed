"""Freeze a customer from My Customers (row menu, confirmation), see its status and timeline change,
unfreeze it; the same from the customer page, whose figures, timeline and actions refresh in place."""

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


def test_freeze_and_unfreeze_from_the_customer_page_refresh_it_in_place(console, open_browser):
    customer = console["customers"][0]
    b = open_browser("status-customer-page")
    b.sign_in_as(console["operator"].user)
    page = b.page
    page.goto(f"/customers/{customer.uin}/")
    figures, timeline, actions = page.locator("#customer-figures"), page.locator("#customer-status"), page.locator("#customer-actions")
    expect(figures.get_by_test_id("account-status")).to_have_text("Normal")
    expect(timeline).to_contain_text("No status changes yet.")
    page.evaluate("window.notReloaded = true")  # gone if the page reloads rather than swapping parts

    actions.get_by_role("link", name="Freeze", exact=True).click()
    dialog = page.locator("dialog.modal[open]")
    expect(dialog.get_by_role("heading", name="Freeze customer")).to_be_visible()
    expect(dialog).to_contain_text("stops this customer from making new purchases")
    dialog.get_by_role("button", name="Freeze").click()
    expect(page.locator("#toasts")).to_contain_text("Customer frozen")
    expect(page.locator("dialog.modal")).to_have_count(0)
    expect(figures.get_by_test_id("account-status")).to_have_text("Frozen")
    expect(timeline.locator(".timeline-event")).to_have_count(1)
    expect(timeline.locator(".timeline-event")).to_contain_text("Normal → Frozen")
    expect(timeline.locator(".timeline-event")).to_contain_text("operator")
    expect(actions.get_by_role("link", name="Unfreeze")).to_be_visible()
    b.shot("customer page frozen")

    actions.get_by_role("link", name="Unfreeze").click()
    dialog = page.locator("dialog.modal[open]")
    expect(dialog.get_by_role("heading", name="Unfreeze customer")).to_be_visible()
    dialog.get_by_role("button", name="Unfreeze").click()
    expect(page.locator("#toasts")).to_contain_text("Customer unfrozen")
    expect(figures.get_by_test_id("account-status")).to_have_text("Normal")
    expect(timeline.locator(".timeline-event")).to_have_count(2)
    expect(timeline.locator(".timeline-event").first).to_contain_text("Frozen → Normal")
    expect(actions.get_by_role("link", name="Freeze", exact=True)).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    assert list(StatusEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True)) == [
        "frozen", "unfrozen"]
    assert b.errors == []
