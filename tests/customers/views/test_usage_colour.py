"""Issue 14 item 12: one colour rule for the usage bar, its number and the usage filter. All three
follow the stored usage band (core.rules.THRESHOLDS): at 90.50 % the row is in band 90 - the bar
and the number both take band-90's colour - and the filter "Used ≥ 90 %" lists it, "Used ≥ 100 %"
does not."""

import pytest

from credits.services import credit_allocate
from tests.factories import CustomerFactory
from tests.pages import body, by_id, classes, elements, set_used


@pytest.mark.parametrize(("used", "band"), [("0.00", 0), ("74.99", 0), ("75.00", 75), ("90.50", 90), ("99.99", 90),
                                            ("100.00", 100), ("120.00", 100)])
def test_bar_number_and_filter_follow_the_band(owner_client, reseller, used, band):
    customer = CustomerFactory(reseller=reseller, name="Banded Co")
    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    set_used(customer, used)
    row = by_id(body(owner_client.get("/customers/")), f"customer-{customer.uin}")
    [usage] = [span for span in elements(row, "span") if "usage" in classes(span)]
    assert f"band-{band}" in classes(usage)  # the bar's colour (console.css: --band-colour)
    [number] = [span for span in elements(usage, "span") if "usage-text" in classes(span)]
    assert f"band-{band}" in classes(number) or band == 0
    for threshold in (75, 90, 100):
        listed = f"customer-{customer.uin}" in body(owner_client.get(f"/customers/?band={threshold}"))
        assert listed == (band >= threshold), threshold
