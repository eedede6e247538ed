"""A customer's row in My Customers refreshes itself, declaratively: it listens (hx-trigger ... from:body)
for the customer's own event, which every form that changes the customer sends. console.js used to
refresh rows by hand on creditAllocated / customerUpdated. (tests/browser checks it in a browser.)"""

import json
import re
from pathlib import Path

import pytest

from tests.pages import body, htmx, set_used

pytestmark = pytest.mark.django_db


def test_the_row_listens_for_its_own_customers_event(owner_client, customer):
    html = body(owner_client.get("/customers/"))
    row = re.search(rf'<tr id="customer-{customer.uin}"[^>]*>', html).group(0)
    assert f'hx-get="/customers/{customer.uin}/row/"' in row
    assert f'hx-trigger="customerUpdated-{customer.uin} from:body"' in row
    assert 'hx-target="this"' in row and 'hx-swap="outerHTML"' in row
    # The row it answers with listens the same way, so it refreshes again after the next change.
    fresh = body(owner_client.get(f"/customers/{customer.uin}/row/", **htmx(f"customer-{customer.uin}")))
    assert f'hx-trigger="customerUpdated-{customer.uin} from:body"' in fresh


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("allocate", {"amount": "10.00", "remark": "", "idempotency_key": "row-refresh-1"}),
        ("remark", {"remark": "Key account"}),
        ("warning", {"percent": "20"}),
        ("channels", {"alert_email": "on"}),
    ],
)
def test_every_change_to_the_customer_sends_the_rows_event(owner_client, customer, path, data):
    response = owner_client.post(f"/customers/{customer.uin}/{path}/", data, **htmx("modal"))
    assert response.status_code == 204
    events = json.loads(response["HX-Trigger"])
    assert f"customerUpdated-{customer.uin}" in events and events["customerUpdated"] == {"uin": customer.uin}


def test_a_repayment_sends_the_rows_event(owner_client, customer):
    owner_client.post(f"/customers/{customer.uin}/allocate/", {"amount": "50.00", "idempotency_key": "k-1"}, **htmx("modal"))
    set_used(customer, "20.00")
    response = owner_client.post(f"/customers/{customer.uin}/repayment/",
                                 {"amount": "5.00", "idempotency_key": "k-2"}, **htmx("modal"))
    assert response.status_code == 204 and f"customerUpdated-{customer.uin}" in json.loads(response["HX-Trigger"])


def test_console_js_no_longer_refreshes_rows_by_hand(settings):
    script = (Path(settings.BASE_DIR) / "static" / "js" / "console.js").read_text()
    assert "htmx.ajax" not in script and "creditAllocated" not in script.split("*/", 1)[1]
