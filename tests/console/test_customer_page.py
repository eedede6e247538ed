"""The customer page (DESIGN §8): figures, burn rate and run-out date, daily spend chart and its
table with the same figures, records, repayments, usage charges (filterable, CSV) and alerts; its
account status (DESIGN §4) among the figures, the status timeline and Freeze / Unfreeze."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from credits.services import (
    credit_allocate,
    repayment_confirm,
    reseller_today,
    usage_charge_check,
    usage_charge_record,
    usage_charges_ingest,
)
from customers.models import CustomerBalance, Member
from notifications.services.status import customer_freeze
from tests.pages import attribute, body, by_id, client_for, elements, htmx, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def spending(reseller, customer, operator):
    credit_allocate(reseller=reseller, customer=customer, amount="500.00", remark="Spring")
    now = timezone.now()
    rows = [usage_charge_check(customer_uin=customer.uin, amount=amount, incurred_at=now - timedelta(days=ago),
                               external_id=f"c-{n}", product=product, region="ap-singapore", pay_mode=mode,
                               instance_id=f"ins-{n}")
            for n, (amount, ago, product, mode) in enumerate([
                ("10.00", 0, "CVM", "postPay"), ("4.50", 0, "COS", "postPay"), ("3.25", 2, "CVM", "prePay"),
                ("20.00", 45, "CDN", "postPay"), ("1.00", 200, "CVM", "postPay")])]
    usage_charges_ingest(reseller=reseller, rows=rows)
    repayment_confirm(reseller=reseller, customer=customer, amount="5.00", actor=operator.user,
                      idempotency_key="r-1")
    return customer


def chart_and_table(html: str) -> tuple[dict, list[list[str]]]:
    data = json.loads(text(by_id(html, "daily-spend-data")))
    table = by_id(html, "daily-spend-table")
    rows = [[text(cell) for cell in row.children if hasattr(cell, "name")] for row in elements(table, "tr")]
    return data, rows


def assert_chart_equals_table(data: dict, rows: list[list[str]]) -> None:
    header, body_rows = rows[0], rows[1:]
    assert header[1:-1] == [s["name"] for s in data["series"]]
    assert [r[0] for r in body_rows] == data["labels"]
    for column, series in enumerate(data["series"], start=1):
        assert [Decimal(r[column].replace(",", "")) for r in body_rows] == [Decimal(v) for v in series["values"]]


def test_the_owner_sees_figures_chart_table_and_sections(owner_client, reseller, spending):
    html = body(owner_client.get(f"/customers/{spending.uin}/"))
    assert f"<title>{spending.name}" in html
    figures = text(by_id(html, "customer-figures"))
    # used 38.75 - 5.00 repaid = 33.75; burn rate (10 + 4.5 + 3.25) / 7 = 2.5357; 466.25 / 2.5357 = 183 days.
    for shown in ("500.00", "33.75", "466.25", "2.54", "183"):
        assert shown in figures, shown
    assert (reseller_today(reseller) + timedelta(days=183)).isoformat() in figures
    data, rows = chart_and_table(html)
    assert len(data["labels"]) == 30 and data["stacked"] and data["time"]
    assert [s["name"] for s in data["series"]] == ["COS", "CVM"]  # the CDN charge is 45 days old
    assert_chart_equals_table(data, rows)
    assert rows[-1][-1] == "14.50"  # today's total
    assert "Spring" not in text(by_id(html, "customer-records")) and "+500.00" in text(by_id(html, "customer-records"))
    assert "5.00" in text(by_id(html, "customer-repayments"))
    charges = text(by_id(html, "usage-charges"))
    assert "ins-0" in charges and "ap-singapore" in charges and "Prepaid" in charges
    assert "Allocate Credit" in text(by_id(html, "customer-actions"))


@pytest.mark.parametrize("days, labels, products", [("90", 90, ["CDN", "COS", "CVM"]), ("365", 365, ["CDN", "COS", "CVM"])])
def test_switching_the_range_redraws_the_chart_from_the_rollups(owner_client, spending, days, labels, products):
    html = body(owner_client.get(f"/customers/{spending.uin}/?days={days}"))
    assert f'href="?days={days}#daily-spend" aria-current="true"' in html
    data, rows = chart_and_table(html)
    assert len(data["labels"]) == labels and [s["name"] for s in data["series"]] == products
    assert_chart_equals_table(data, rows)
    total = sum(Decimal(v) for s in data["series"] for v in s["values"])
    assert total == (Decimal("38.75") if days == "365" else Decimal("37.75"))


def test_a_bad_range_says_which_are_allowed_and_shows_30_days(owner_client, spending):
    html = body(owner_client.get(f"/customers/{spending.uin}/?days=7"))
    assert "The range 7 is not one of 30, 90, 365 days" in html
    assert len(chart_and_table(html)[0]["labels"]) == 30


def test_usage_charges_filter_and_csv(owner_client, spending):
    html = body(owner_client.get(f"/customers/{spending.uin}/?product=CVM&pay_mode=prePay", **htmx("usage-charges")))
    assert html.lstrip().startswith('<section id="usage-charges"')
    rows = list(elements(by_id(html, "usage-charges"), "tr"))[1:]
    assert len(rows) == 1 and "3.25" in text(rows[0])
    bad = body(owner_client.get(f"/customers/{spending.uin}/?pay_mode=yearly", **htmx("usage-charges")))
    assert "The pay mode yearly is not one of prePay, postPay" in bad
    response = owner_client.get(f"/customers/{spending.uin}/usage.csv?product=CVM")
    lines = list(csv.reader(io.StringIO(body(response).lstrip("\ufeff"))))
    assert lines[0][:3] == ["Incurred at", "Recorded at", "External id"]
    assert sorted(line[7] for line in lines[1:]) == ["1.00", "10.00", "3.25"]


def test_a_viewer_sees_the_page_without_the_write_actions(viewer_client, spending):
    html = body(viewer_client.get(f"/customers/{spending.uin}/"))
    assert "Daily spend" in html and "Confirm Repayment" not in html and "Allocate Credit" not in html


def test_another_resellers_customer_is_404_and_anonymous_goes_to_sign_in(owner_client, client, other_customer, customer):
    assert owner_client.get(f"/customers/{other_customer.uin}/").status_code == 404
    assert owner_client.get(f"/customers/{other_customer.uin}/usage.csv").status_code == 404
    response = client.get(f"/customers/{customer.uin}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_customer_that_spends_nothing_has_no_run_out_date(owner_client, customer):
    figures = text(by_id(body(owner_client.get(f"/customers/{customer.uin}/")), "customer-figures"))
    assert "none (spends nothing)" in figures
    assert "Days to zero—Projected" in figures


def test_the_customer_name_links_to_its_page_from_my_customers_records_and_overview(owner_client, spending):
    page = f'href="/customers/{spending.uin}/"'
    for url in ("/customers/", "/records/", f"/customers/{spending.uin}/records/", "/"):
        assert page in body(owner_client.get(url)), url


def actions_of(html: str) -> list[str]:
    return [text(link) for link in elements(by_id(html, "customer-actions"), "a")]


def timeline_of(html: str) -> list[str]:
    """The events of the status-history partial, which the page shows in its customer-status card."""
    (history,) = [e for e in elements(by_id(html, "customer-status"), "section") if attribute(e, "id") == "status-history"]
    return [tuple(text(part) for part in (*elements(item, "strong"), *elements(item, "span")))
            for item in elements(history, "li") if attribute(item, "class") == "timeline-event"]


def status_figure(html: str) -> str:
    (figure,) = [e for e in elements(by_id(html, "customer-figures")) if attribute(e, "data-testid") == "account-status"]
    return " ".join(text(e) for e in figure.children)


def test_the_owner_sees_the_account_status_its_timeline_in_order_and_freeze(owner_client, reseller, customer, operator):
    html = body(owner_client.get(f"/customers/{customer.uin}/"))
    assert status_figure(html) == "Normal"
    assert timeline_of(html) == [] and "No status changes yet." in text(by_id(html, "customer-status"))
    assert "Freeze" in actions_of(html) and "Unfreeze" not in actions_of(html)
    assert f'href="/customers/{customer.uin}/freeze/" hx-get="/customers/{customer.uin}/freeze/" hx-target="#modal"' in html

    credit_allocate(reseller=reseller, customer=customer, amount="50.00")
    usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount="60.00", incurred_at=timezone.now(),
                        external_id="over")
    credit_allocate(reseller=reseller, customer=customer, amount="20.00")
    customer_freeze(reseller=reseller, customer=customer, actor=operator.user, actor_name="ops-anna")
    html = body(owner_client.get(f"/customers/{customer.uin}/"))
    assert status_figure(html) == "Frozen"
    # Newest first, each with its cause, actor and the available credit it left.
    assert timeline_of(html) == [
        ("Frozen", "Normal → Frozen", "Console · ops-anna", "Available 10.00 USD"),
        ("Resumed", "Overdue → Normal", "Credit allocation · system", "Available 10.00 USD"),
        ("Overdue", "Normal → Overdue", "Usage charge · usage", "Available -10.00 USD"),
    ]
    assert "Unfreeze" in actions_of(html) and "Freeze" not in actions_of(html)


def test_a_change_refreshes_the_actions_figures_and_timeline_alone(owner_client, customer):
    """What the freeze dialog's customerUpdated-<uin> (and creditAllocated) make the page fetch: each
    part on its own, without the chart, records and charges."""
    for target in ("customer-actions", "customer-figures", "customer-status"):
        html = body(owner_client.get(f"/customers/{customer.uin}/", **htmx(target)))
        assert html.lstrip().startswith(f'<{"nav" if target == "customer-actions" else "section"} id="{target}"'), target
        assert f'hx-trigger="creditAllocated from:body, customerUpdated-{customer.uin} from:body"' in html
        assert "daily-spend" not in html and "usage-charges" not in html
    owner_client.post(f"/customers/{customer.uin}/freeze/", {}, **htmx("modal"))
    assert "Unfreeze" in body(owner_client.get(f"/customers/{customer.uin}/", **htmx("customer-actions")))
    assert "Normal → Frozen" in body(owner_client.get(f"/customers/{customer.uin}/", **htmx("customer-status")))
    assert "Frozen" in body(owner_client.get(f"/customers/{customer.uin}/", **htmx("customer-figures")))


def test_a_viewer_sees_status_and_timeline_but_no_freeze(viewer_client, reseller, customer):
    customer_freeze(reseller=reseller, customer=customer)
    html = body(viewer_client.get(f"/customers/{customer.uin}/"))
    assert status_figure(html) == "Frozen"
    assert [event[:2] for event in timeline_of(html)] == [("Frozen", "Normal → Frozen")]
    assert actions_of(html) == ["Allocation Record"]
    assert "/freeze/" not in html
    assert viewer_client.post(f"/customers/{customer.uin}/freeze/", {}).status_code == 403
    assert CustomerBalance.objects.get(pk=customer.pk).frozen


def test_another_resellers_customer_page_and_its_parts_are_404(owner_client, other_customer):
    for target in (None, "customer-figures", "customer-status", "customer-actions"):
        assert owner_client.get(f"/customers/{other_customer.uin}/", **htmx(target)).status_code == 404


def test_a_suspended_customers_page_shows_the_days_until_deletion(owner_client, reseller, customer):
    reseller.suspension_allowlisted = True
    reseller.save(update_fields=["suspension_allowlisted"])
    customer_freeze(reseller=reseller, customer=customer, now=timezone.now() - timedelta(days=8, hours=1))
    html = body(owner_client.get(f"/customers/{customer.uin}/"))
    assert status_figure(html) == "Suspended data deleted in 7 days"
    assert [event[:2] for event in timeline_of(html)] == [("Suspended", "Frozen → Suspended"), ("Frozen", "Normal → Frozen")]
    assert "Unfreeze" in actions_of(html)


def test_the_customer_page_with_its_status_is_chinese_for_a_zh_hans_member(operator, reseller, customer):
    Member.objects.filter(pk=operator.pk).update(language="zh-hans")
    reseller.suspension_allowlisted = True
    reseller.save(update_fields=["suspension_allowlisted"])
    customer_freeze(reseller=reseller, customer=customer, now=timezone.now() - timedelta(days=8, hours=1))
    html = body(client_for(operator.user).get(f"/customers/{customer.uin}/"))
    assert '<html lang="zh-hans">' in html
    assert status_figure(html) == "已停服 7 天后删除数据"
    assert [event[:3] for event in timeline_of(html)] == [("已停服", "已冻结 → 已停服", "控制台"),
                                                          ("已冻结", "正常 → 已冻结", "控制台")]
    assert "解冻" in actions_of(html)
    for label in ["额度与消费", "账号状态", "状态历史", "预计可用天数", "以表格查看每日消费"]:
        assert label in html, label
    for english in ["Credit and spend", "Account status", "Status history", "Unfreeze", "Suspended", "Days to zero"]:
        assert english not in html, english


def test_the_page_shows_the_status_once_and_the_modal_still_shows_it(owner_client, customer):
    html = body(owner_client.get(f"/customers/{customer.uin}/"))
    assert "Account status:" not in text(by_id(html, "customer-status"))  # among the figures instead
    modal = body(owner_client.get(f"/customers/{customer.uin}/status/", **htmx("modal")))
    assert "Account status:Normal" in text(by_id(modal, "status-history"))
