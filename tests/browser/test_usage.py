"""The customer page in a browser (issue 11): opened from My Customers, the range switched, the
chart drawn by the vendored uPlot with no CSP error, and its table read back: the same figures."""

import json
import re
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from credits.services import credit_allocate, usage_charge_check, usage_charges_ingest


def spend(console) -> None:
    reseller, customers = console["reseller"], console["customers"]
    now = timezone.now()
    rows = []
    for n, customer in enumerate(customers):
        credit_allocate(reseller=reseller, customer=customer, amount="900.00")
        for day in range(0, 80, 1 + n):
            for k, product in enumerate(("CVM", "COS", "CDN")[: 1 + (day + n) % 3]):
                rows.append(usage_charge_check(
                    customer_uin=customer.uin, amount=f"{1 + (day * 7 + k * 3) % 9}.{(day + k) % 10}5",
                    incurred_at=now - timedelta(days=day, minutes=n), external_id=f"b-{customer.uin}-{day}-{k}",
                    product=product, region="ap-singapore"))
    usage_charges_ingest(reseller=reseller, rows=rows)


def chart_figures(page) -> dict:
    return json.loads(page.locator("#daily-spend-data").text_content())


def table_figures(page) -> tuple[list[str], list[list[str]]]:
    header = page.locator("#daily-spend-table thead th").all_text_contents()
    rows = [row.locator("th, td").all_text_contents() for row in page.locator("#daily-spend-table tbody tr").all()]
    return header, rows


def test_customer_page_from_my_customers_switch_range_and_read_the_table(console, open_browser):
    spend(console)
    customer = console["customers"][0]
    b = open_browser("customer-page")
    b.sign_in_as(console["operator"].user)
    page = b.page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/customers/")
    page.locator(f"#customer-{customer.uin}").get_by_role("link", name=customer.name).click()
    expect(page).to_have_title(re.compile(f"^{customer.name}"))
    expect(page.locator("[data-chart='daily-spend-data']")).to_have_attribute("data-chart-ready", "true")
    expect(page.locator("#daily-spend canvas")).to_have_count(1)
    assert len(chart_figures(page)["labels"]) == 30
    b.shot("customer page 30 days")
    page.screenshot(path=str(b_path("customer-page")), full_page=False)

    page.locator("#daily-spend").get_by_role("link", name="90 days").click()
    expect(page).to_have_url(re.compile(r"\?days=90#daily-spend$"))
    expect(page.locator("#spend-heading")).to_contain_text("90 days")
    expect(page.locator("[data-chart='daily-spend-data']")).to_have_attribute("data-chart-ready", "true")
    page.locator("#daily-spend summary").click()
    expect(page.locator("#daily-spend-table")).to_be_visible()
    b.shot("customer page 90 days with table")

    data = chart_figures(page)
    header, rows = table_figures(page)
    assert len(rows) == len(data["labels"]) == 90
    assert header[1:-1] == [s["name"] for s in data["series"]] == ["CDN", "COS", "CVM"]
    assert [r[0] for r in rows] == data["labels"]
    for column, series in enumerate(data["series"], start=1):
        assert [Decimal(r[column].replace(",", "")) for r in rows] == [Decimal(v) for v in series["values"]]
    # The chart's own legend reads the same figures when the pointer is on the last day.
    assert Decimal(rows[-1][-1].replace(",", "")) == sum(Decimal(s["values"][-1]) for s in data["series"])


def b_path(name: str):
    from tests.browser.conftest import SCREENSHOTS

    return SCREENSHOTS / f"{name}-1440x900.png"


def test_overview_charts_draw_with_their_tables(console, open_browser):
    spend(console)
    b = open_browser("overview-charts")
    b.sign_in_as(console["operator"].user)
    page = b.page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/")
    for island in ("pool-allocated-data", "usage-bands-data", "top-spenders-data"):
        expect(page.locator(f"[data-chart='{island}']")).to_have_attribute("data-chart-ready", "true")
    page.screenshot(path=str(b_path("overview")), full_page=False)
    page.screenshot(path=str(b_path("overview-full")), full_page=True)
    top = json.loads(page.locator("#top-spenders-data").text_content())
    rows = [row.locator("th, td").all_text_contents() for row in page.locator("#top-spenders-table tbody tr").all()]
    assert [r[0] for r in rows] == top["labels"] and len(rows) == 5
    assert [Decimal(r[1].replace(",", "")) for r in rows] == [Decimal(v) for v in top["series"][0]["values"]]
    # Running out within 7 days: Acme Games has spent past its credit; Allocate Credit opens the modal.
    running = page.locator("#running-out")
    expect(running).to_contain_text("Acme Games")
    running.get_by_role("link", name="Allocate Credit").first.click()
    expect(page.locator("dialog.modal")).to_be_visible()
