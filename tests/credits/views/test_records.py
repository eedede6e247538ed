import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from console.tables import CappedCountPaginator
from credits.models import AllocationRecord
from credits.services import credit_allocate
from tests.factories import CustomerFactory, UserFactory
from tests.pages import attribute, body, by_id, classes, htmx, set_used, text

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def rows(html: str) -> list[str]:
    tbody = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", tbody, re.S)


@pytest.fixture
def ledger(reseller, customer):
    alice = UserFactory(username="alice")
    second = CustomerFactory(reseller=reseller, name="Second Customer")
    credit_allocate(reseller=reseller, customer=customer, amount="100.00", actor=alice)
    set_used(customer, "20.00")
    credit_allocate(reseller=reseller, customer=customer, amount="-30.00")
    credit_allocate(reseller=reseller, customer=second, amount="7.50", actor=alice)
    return {"alice": alice, "second": second}


def test_records_newest_first_with_signs_and_after_values(owner_client, customer, ledger):
    html = body(owner_client.get("/records/"))
    assert "<title>Allocation Records" in html and 'aria-current="page"><span class="nav-icon icon-records"' in html
    found = rows(html)
    assert len(found) == 3
    assert "Second Customer" in found[0] and "+7.50" in found[0]
    assert "-30.00" in found[1] and "Repossess" in found[1]
    assert ">70.00<" in found[1] and ">50.00<" in found[1]  # credit after, available after
    assert "+100.00" in found[2] and "alice" in found[2] and "Allocate" in found[2]


@pytest.mark.parametrize(("query", "count"), [
    ("type=allocate", 2),
    ("type=repossess", 1),
    ("operator=ALICE", 2),
])
def test_filters(owner_client, ledger, query, count):
    assert len(rows(body(owner_client.get(f"/records/?{query}")))) == count


def test_filter_by_customer_uin(owner_client, customer, ledger):
    assert len(rows(body(owner_client.get(f"/records/?uin={customer.uin}")))) == 2
    assert len(rows(body(owner_client.get("/records/?uin=123")))) == 0


def test_date_range_counts_days_in_the_resellers_time_zone(owner_client, reseller, customer):
    record = credit_allocate(reseller=reseller, customer=customer, amount="5.00")
    day = record.created_at.astimezone(SHANGHAI).date()
    assert len(rows(body(owner_client.get(f"/records/?date_from={day}&date_to={day}")))) == 1
    assert len(rows(body(owner_client.get(f"/records/?date_to={day - timedelta(days=1)}")))) == 0
    assert len(rows(body(owner_client.get(f"/records/?date_from={day + timedelta(days=1)}")))) == 0
    # Times show in the reseller's zone too.
    assert record.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") in body(owner_client.get("/records/"))


def test_date_boundary_is_midnight_in_the_resellers_zone(owner_client, reseller, customer, monkeypatch):
    from django.utils import timezone

    # 2026-03-01 23:30 in Shanghai is 15:30 UTC the same day; 00:30 on 2 March is 16:30 UTC on 1 March.
    late = datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI)
    early_next = datetime(2026, 3, 2, 0, 30, tzinfo=SHANGHAI)
    for moment in (late, early_next):
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        credit_allocate(reseller=reseller, customer=customer, amount="1.00")
    monkeypatch.undo()
    assert len(rows(body(owner_client.get("/records/?date_from=2026-03-01&date_to=2026-03-01")))) == 1
    assert len(rows(body(owner_client.get("/records/?date_from=2026-03-02&date_to=2026-03-02")))) == 1


def field_error(html: str, name: str) -> str:
    message = by_id(html, f"id_{name}_error")
    assert classes(message) == {"field-error"}
    return text(message)


NOTHING_SHOWN = "No records shown: correct the filters marked above."


def test_invalid_filter_values_say_so(owner_client, ledger):
    html = body(owner_client.get("/records/?date_from=yesterday"))
    assert field_error(html, "date_from") == "Enter the day as YYYY-MM-DD, such as 2026-11-30."


@pytest.mark.parametrize("page", ["/records/", "/customers/{uin}/records/"])
@pytest.mark.parametrize(("query", "field"), [
    ("date_to=9999-12-31", "date_to"),  # the day after it does not exist: a 500 before
    ("date_from=9999-12-31", "date_from"),
    ("date_from=0001-01-01", "date_from"),
    ("date_to=1999-12-31", "date_to"),
])
def test_a_date_out_of_range_is_an_error_beside_its_field(owner_client, customer, ledger, page, query, field):
    """Issue 8, defect 7."""
    response = owner_client.get(f"{page.format(uin=customer.uin)}?{query}")
    html = body(response)
    assert response.status_code == 200
    assert field_error(html, field) == "Enter a date from 2000-01-01 to 2099-12-31."
    assert 'aria-invalid="true"' in html
    assert rows(html) == [] and NOTHING_SHOWN in html
    assert "Export CSV" not in html


@pytest.mark.parametrize(("export", "page"), [
    ("/records/export.csv", "/records/"),
    ("/customers/{uin}/records/export.csv", "/customers/{uin}/records/"),
])
def test_an_export_with_a_bad_filter_goes_to_the_page_that_marks_it(owner_client, customer, ledger, export, page):
    response = owner_client.get(f"{export.format(uin=customer.uin)}?date_to=9999-12-31&type=allocate")
    assert response.status_code == 302
    assert response["Location"] == f"{page.format(uin=customer.uin)}?date_to=9999-12-31&type=allocate"


def test_from_after_to_is_an_error_beside_to(owner_client, ledger):
    html = body(owner_client.get("/records/?date_from=2026-05-02&date_to=2026-05-01"))
    assert field_error(html, "date_to") == "“To” is before “From”: pick 2026-05-02 or a later day."
    assert field_error(html, "date_from") == ""
    assert rows(html) == [] and NOTHING_SHOWN in html
    # One day is a range.
    assert NOTHING_SHOWN not in body(owner_client.get("/records/?date_from=2026-05-02&date_to=2026-05-02"))


@pytest.mark.parametrize("uin", ["abc", "1e5", "-1", "0", "1.5", "１２３", "²", "99999999999999999999", "9223372036854775808"])
def test_a_uin_that_is_not_a_uin_is_an_error_beside_its_field(owner_client, customer, ledger, uin):
    html = body(owner_client.get("/records/", {"uin": uin}))
    assert field_error(html, "uin") == "Enter a customer UIN: a whole number of up to 19 digits 0-9, such as 100012345678."
    assert f'value="{uin}"' in html  # kept in the field, to correct
    assert rows(html) == [] and NOTHING_SHOWN in html


def test_htmx_answer_fills_the_errors_beside_the_fields(owner_client, ledger):
    """The filter form stays in the page (so typing is not lost); its error slots are refilled out of band."""
    html = body(owner_client.get("/records/?uin=abc&date_from=2026-05-02", **htmx("record-table")))
    assert html.lstrip().startswith('<div id="record-table"') and NOTHING_SHOWN in html
    for name in ("uin", "date_from"):
        assert attribute(by_id(html, f"id_{name}_error"), "hx-swap-oob") == "true"
    assert field_error(html, "uin").startswith("Enter a customer UIN") and field_error(html, "date_from") == ""
    fixed = body(owner_client.get("/records/?date_from=2000-01-01", **htmx("record-table")))
    assert attribute(by_id(fixed, "id_uin_error"), "hx-swap-oob") == "true" and field_error(fixed, "uin") == ""
    assert len(rows(fixed)) == 3


def test_customer_records_page_is_scoped(owner_client, customer, ledger):
    html = body(owner_client.get(f"/customers/{customer.uin}/records/"))
    assert len(rows(html)) == 2 and "Second Customer" not in html
    assert 'name="uin"' not in html  # the customer is fixed
    assert "<title>Allocation Record · Harbor Games" in html


def test_htmx_gets_only_the_record_table(owner_client, ledger):
    html = body(owner_client.get("/records/?type=repossess", **htmx("record-table")))
    assert html.lstrip().startswith('<div id="record-table"') and len(rows(html)) == 1


def test_export_streams_with_filters(owner_client, customer, ledger):
    response = owner_client.get("/records/export.csv?type=allocate&page=2")
    assert response.streaming
    lines = list(csv.reader(io.StringIO(body(response).lstrip("\ufeff"))))
    assert lines[0][:5] == ["Time (Asia/Shanghai)", "Customer UIN", "Customer name", "Type", "Amount"]  # the zone named
    assert [line[4] for line in lines[1:]] == ["+7.50", "+100.00"]
    per_customer = body(owner_client.get(f"/customers/{customer.uin}/records/export.csv"))
    assert "Second Customer" not in per_customer and "-30.00" in per_customer


def test_capped_count_keeps_big_ledgers_cheap(owner_client, reseller, customer, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    for _ in range(5):
        credit_allocate(reseller=reseller, customer=customer, amount="1.00")
    with CaptureQueriesContext(connection) as queries:
        html = body(owner_client.get("/records/?per_page=10"))
    assert "1–3 of 3+" in html and "Showing the newest 3" in html
    count_sql = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "allocationrecord" in q["sql"]]
    assert len(count_sql) == 1 and "LIMIT 4" in count_sql[0]


def test_query_count_does_not_grow_with_the_page(owner_client, reseller, customer):
    for _ in range(30):
        credit_allocate(reseller=reseller, customer=customer, amount="1.00")
    counts = []
    for query in ("per_page=10", "per_page=50", "per_page=50&type=allocate&operator=system"):
        with CaptureQueriesContext(connection) as queries:
            owner_client.get(f"/records/?{query}")
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2] <= 7
    assert AllocationRecord.objects.count() == 30


def test_history_restore_gets_the_page_with_its_errors_once(owner_client, ledger):
    html = body(owner_client.get("/records/?uin=abc", **htmx("record-table"), HTTP_HX_HISTORY_RESTORE_REQUEST="true"))
    assert "<title>Allocation Records" in html and "hx-swap-oob" not in html
    assert html.count('id="id_uin_error"') == 1
