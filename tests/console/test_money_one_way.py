"""Issue 14 item 15 (DESIGN §9): money is written one way on every console page - thousands
separators and 2 decimals (core.money.format_money through the `money` filter) - never as a bare
"12345.60"."""

import re

import pytest

from credits.services import credit_allocate, pool_grant
from tests.factories import CustomerFactory
from tests.pages import body, set_used

BARE_AMOUNT = re.compile(r"(?<![\d,.])\d{4,}\.\d{2}(?!\d)")


@pytest.fixture
def big(reseller):
    pool_grant(reseller=reseller, amount="2000000.00")
    customer = CustomerFactory(reseller=reseller, name="Big Spender", uin=200000000777)
    credit_allocate(reseller=reseller, customer=customer, amount="12345.60", remark="big")
    set_used(customer, "11500.25")
    return customer


@pytest.mark.parametrize("path", ["/", "/customers/", "/records/", "/customers/200000000777/records/",
                                  "/customers/200000000777/allocate/", "/customers/200000000777/repayment/",
                                  "/customers/200000000777/warning/"])
def test_amounts_have_thousands_separators_and_two_decimals(owner_client, big, path):
    html = body(owner_client.get(path))
    # A chart's JSON data island is data, not text: charts.js writes its figures with separators.
    html = re.sub(r'<script id="[^"]*" type="application/json">.*?</script>', " ", html, flags=re.S)
    page_text = re.sub(r"<[^>]+>", " ", html)
    assert BARE_AMOUNT.findall(page_text) == []
    assert "12,345.60" in page_text or "11,500.25" in page_text or "845.35" in page_text
