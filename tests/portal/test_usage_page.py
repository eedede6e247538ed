"""The portal's usage page: daily spend for the last 30 days by product (the reseller's zone), chart,
table and CSV, read from the customer's daily rollups."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.html import Element
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credits.services import credit_allocate, usage_charge_record
from tests.factories import MemberFactory, ResellerFactory
from tests.onboarding import bound_customer
from tests.pages import body, by_id, client_for, elements, text

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def spending(reseller):
    reseller.time_zone = "Asia/Shanghai"
    reseller.save()
    customer, user = bound_customer(reseller)
    credit_allocate(reseller=reseller, customer=customer, amount="1000.00")
    today = timezone.localdate(timezone=SHANGHAI)
    noon = datetime.combine(today, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=12)

    def charge(amount, when, product, n=[0]):  # noqa: B006 (a counter for external ids)
        n[0] += 1
        usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount=amount, incurred_at=when,
                            external_id=f"u-{n[0]}", product=product)

    charge("10.00", noon, "CVM")
    charge("2.50", noon - timedelta(hours=1), "CVM")
    charge("4.00", noon, "COS")
    # 00:30 in Shanghai yesterday is still the day before in UTC: it counts for yesterday here.
    charge("7.25", datetime.combine(today - timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI) + timedelta(minutes=30), "CVM")
    charge("99.00", noon - timedelta(days=31), "CVM")  # outside the 30 days
    return customer, user, today


def test_usage_page_sums_per_day_and_product_in_the_resellers_zone(spending):
    customer, user, today = spending
    page = body(client_for(user).get("/portal/usage/"))
    rows = [[text(cell) for cell in row.children if isinstance(cell, Element)]
            for row in elements(by_id(page, "usage-table"), "tr")]
    assert rows[0] == ["Date", "COS", "CVM", "Total"]
    assert rows[1] == [f"{today:%Y-%m-%d}", "4.00", "12.50", "16.50"]
    assert rows[2] == [f"{today - timedelta(days=1):%Y-%m-%d}", "0.00", "7.25", "7.25"]
    assert len(rows) == 31 and rows[-1][0] == f"{today - timedelta(days=29):%Y-%m-%d}"
    assert "23.75" in text(by_id(page, "usage-total"))


def test_usage_csv_has_the_same_figures(spending):
    customer, user, today = spending
    response = client_for(user).get("/portal/usage/export.csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert content[0] == "Date,Product,Amount (USD)"
    assert f"{today:%Y-%m-%d},CVM,12.50" in content and f"{today:%Y-%m-%d},COS,4.00" in content
    assert f"{today - timedelta(days=1):%Y-%m-%d},CVM,7.25" in content and len(content) == 4


def test_usage_reads_the_rollups_never_the_charges(spending):
    _, user, _ = spending
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        client.get("/portal/usage/")
    assert not [q["sql"] for q in queries if "credits_usagecharge" in q["sql"]]
    rollup_queries = [q["sql"] for q in queries if "credits_usagedaily" in q["sql"]]
    assert len(rollup_queries) == 1 and "GROUP BY" in rollup_queries[0]


def test_the_chart_has_the_tables_figures(spending):
    _, user, today = spending
    response = client_for(user).get("/portal/usage/")
    assert 'id="daily-spend-data"' in response.content.decode()
    data = response.context["chart_data"]
    table = {}
    for row in list(elements(by_id(body(response), "usage-table"), "tr"))[1:]:
        cells = [text(cell) for cell in row.children if isinstance(cell, Element)]
        table[cells[0]] = cells[1:-1]
    assert [series["name"] for series in data["series"]] == ["COS", "CVM"]
    assert len(data["labels"]) == 30 and data["labels"][-1] == f"{today:%Y-%m-%d}"
    for i, day in enumerate(data["labels"]):
        assert [series["values"][i] for series in data["series"]] == table[day]
    assert table[f"{today:%Y-%m-%d}"] == ["4.00", "12.50"]


def test_usage_walls(spending, reseller):
    customer, _, _ = spending
    _, stranger = bound_customer(ResellerFactory(), email="stranger@client.example")
    assert "12.50" not in body(client_for(stranger).get("/portal/usage/"))
    csv = b"".join(client_for(stranger).get("/portal/usage/export.csv").streaming_content).decode()
    assert "12.50" not in csv
    member = client_for(MemberFactory(reseller=reseller).user)
    for url in ("/portal/usage/", "/portal/usage/export.csv"):
        assert member.get(url).status_code == 404
        assert Client().get(url)["Location"].startswith("/portal/login/")
    customer.balance.refresh_from_db()
    assert customer.balance.credit == Decimal("1000.00")
