"""My Customers: the "Days to zero" column sorts, and "runs out within N days" filters (issue 11)."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test.html import Element
from django.utils import timezone

from credits.services import credit_allocate, usage_charge_check, usage_charges_ingest
from tests.factories import CustomerFactory
from tests.pages import body, by_id, elements, htmx, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def runway(reseller):
    """Four customers: runs out in 4 days, in 20 days, already out (0), and one spending nothing."""
    made = {}
    for name, credit, spent in (("Soon", "100.00", "140.00"), ("Later", "300.00", "70.00"),
                                ("Out", "50.00", "60.00"), ("Idle", "80.00", None)):
        customer = CustomerFactory(reseller=reseller, name=name)
        credit_allocate(reseller=reseller, customer=customer, amount=credit)
        if spent:
            usage_charges_ingest(reseller=reseller, rows=[usage_charge_check(
                customer_uin=customer.uin, amount=spent, incurred_at=timezone.now() - timedelta(days=1),
                external_id=f"{name}-1")])
        made[name] = customer
    return made


def cells(row) -> list[str]:
    return [text(cell) for cell in row.children if isinstance(cell, Element)]


def names(html: str) -> list[str]:
    """The Name column of each customer row (an empty table has only its one "no customers" cell)."""
    rows = [cells(row) for row in list(elements(by_id(html, "customers"), "tr"))[1:]]
    return [row[1] for row in rows if len(row) > 1]


def test_days_to_zero_column_and_sort(owner_client, runway):
    # Soon: 100 - 140 < 0 → 0? No: used 140 > credit 100, so 0. Later: 230 / 10 a day = 23.
    for customer, days in ((runway["Later"], Decimal("23")), (runway["Soon"], 0), (runway["Idle"], None)):
        customer.refresh_from_db()
        assert customer.days_to_zero == days
    html = body(owner_client.get("/customers/?sort=days_to_zero", **htmx("customer-table")))
    assert "Days to zero" in text(by_id(html, "customers"))
    assert names(html)[:3] in (["Out", "Soon", "Later"], ["Soon", "Out", "Later"]) and names(html)[-1] == "Idle"
    html = body(owner_client.get("/customers/?sort=-days_to_zero", **htmx("customer-table")))
    assert names(html)[0] == "Idle"
    header = [text(th) for th in elements(by_id(html, "customers"), "th")]
    row = cells(by_id(html, f"customer-{runway['Later'].uin}"))
    assert row[header.index("Days to zero")] == "23"
    assert cells(by_id(html, f"customer-{runway['Idle'].uin}"))[header.index("Days to zero")] == "—"


def test_the_export_has_days_to_zero_and_follows_the_filter(owner_client, runway):
    response = owner_client.get("/customers/export.csv?runs_out=30&sort=-days_to_zero")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    column = rows[0].index("Days to zero")
    assert [(row[1], row[column]) for row in rows[1:]][0] == ("Later", "23")
    assert sorted(row[1] for row in rows[1:]) == ["Later", "Out", "Soon"]
    everyone = list(csv.reader(io.StringIO(
        b"".join(owner_client.get("/customers/export.csv").streaming_content).decode("utf-8-sig"))))
    assert {row[1]: row[column] for row in everyone[1:]}["Idle"] == ""  # spends nothing: no run-out date


def test_runs_out_within_filter(owner_client, runway):
    html = body(owner_client.get("/customers/?runs_out=7", **htmx("customer-table")))
    assert sorted(names(html)) == ["Out", "Soon"]
    html = body(owner_client.get("/customers/?runs_out=30", **htmx("customer-table")))
    assert sorted(names(html)) == ["Later", "Out", "Soon"]


@pytest.mark.parametrize("value", ["-1", "abc", "3651", "2.5"])
def test_a_bad_runs_out_value_selects_nothing_and_says_why(owner_client, runway, value):
    html = body(owner_client.get(f"/customers/?runs_out={value}"))
    assert names(html) == []
    assert 'id="id_runs_out_error"' in html and text(by_id(html, "id_runs_out_error"))
