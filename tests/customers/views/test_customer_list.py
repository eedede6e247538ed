import csv
import io
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credits.services import credit_allocate
from customers.models import Customer
from tests.factories import CustomerFactory
from tests.pages import attribute, body, by_id, classes, elements, htmx, set_used, text

pytestmark = pytest.mark.django_db


def uins(html: str) -> list[int]:
    return [int(uin) for uin in re.findall(r'<tr id="customer-(\d+)"', html)]


def query(link) -> dict[str, list[str]]:
    return parse_qs(urlsplit(attribute(link, "href")).query)


@pytest.fixture
def customers(reseller):
    """Five customers with known usage: bands 0, 75, 90, 100 and a frozen one."""
    now = timezone.now()
    made = []
    for i, (name, credit, used, status) in enumerate([
        ("Alpha Labs", "1000", "100", "normal"),
        ("Bravo Games", "1000", "760", "normal"),
        ("Charlie Media", "1000", "950", "normal"),
        ("Delta Retail", "1000", "1200", "normal"),
        ("Echo Frozen", "500", "0", "frozen"),
    ]):
        customer = CustomerFactory(reseller=reseller, name=name, email=f"{name.split()[0].lower()}@ex.example",
                                   bound_at=now - timedelta(days=i), frozen=status == "frozen")
        credit_allocate(reseller=reseller, customer=customer, amount=credit)
        set_used(customer, used)
        made.append(customer)
    return made


def test_lists_only_the_resellers_customers_newest_binding_first(owner_client, customers, other_customer):
    html = body(owner_client.get("/customers/"))
    assert uins(html) == [c.uin for c in customers]
    assert "<title>My Customers" in html and 'aria-current="page">My Customers' in html
    assert other_customer.name not in html


def test_row_shows_every_column(owner_client, customers):
    delta = customers[3]
    row = by_id(body(owner_client.get("/customers/")), f"customer-{delta.uin}")
    for shown in ("Delta Retail", "delta@ex.example", delta.phone, "1,000.00", "1,200.00", "-200.00",
                  "Overdue", "Allocate Credit", "Allocation Record", "Edit remark", "Custom Balance Warning", "Alert history"):
        assert shown in text(row), shown
    [available] = [td for td in elements(row, "td") if text(td) == "-200.00"]
    assert classes(available) >= {"num", "negative"}  # available <= 0 is red
    assert [attribute(meter, "value") for meter in elements(row, "meter")] == ["100"]
    links = {attribute(a, "href") for a in elements(row, "a")}
    assert {f"/customers/{delta.uin}/warning/", f"/customers/{delta.uin}/alerts/"} <= links
    # The row menu's button says whose actions it opens (a screen reader reads the label).
    assert [attribute(summary, "aria-label") for summary in elements(row, "summary")] == [
        "More actions for Delta Retail"]


@pytest.mark.parametrize(("query", "expected"), [
    ("q=bravo", ["Bravo Games"]),
    ("q=charlie%40ex", ["Charlie Media"]),
    ("band=75", ["Bravo Games", "Charlie Media", "Delta Retail"]),
    ("band=90", ["Charlie Media", "Delta Retail"]),
    ("band=100", ["Delta Retail"]),
    ("status=frozen", ["Echo Frozen"]),
    ("q=a&band=90", ["Charlie Media", "Delta Retail"]),
])
def test_search_and_filters(owner_client, customers, query, expected):
    html = body(owner_client.get(f"/customers/?{query}"))
    names = {c.uin: c.name for c in customers}
    assert [names[uin] for uin in uins(html)] == expected


@pytest.mark.parametrize(("query", "field", "error"), [
    ("status=gone", "status", "Select a valid choice. gone is not one of the available choices."),
    ("band=50&q=a", "band", "Select a valid choice. 50 is not one of the available choices."),
    ("q=a%00b", "q", "Null characters are not allowed."),
])
def test_a_filter_value_the_list_cannot_use_is_an_error_beside_its_field(owner_client, customers, query, field, error):
    """Issue 8, defect 7: not a silently dropped filter that lists every customer."""
    response = owner_client.get(f"/customers/?{query}")
    html = body(response)
    assert response.status_code == 200
    message = by_id(html, f"id_{field}_error")
    assert classes(message) == {"field-error"} and text(message) == error
    assert uins(html) == [] and "No customers shown: correct the search or filters marked above." in html
    assert "Export CSV" not in html
    fragment = body(owner_client.get(f"/customers/?{query}", **htmx("customer-table")))
    out_of_band = by_id(fragment, f"id_{field}_error")
    assert attribute(out_of_band, "hx-swap-oob") == "true" and text(out_of_band) == error
    export = owner_client.get(f"/customers/export.csv?{query}")
    assert export.status_code == 302 and export["Location"] == f"/customers/?{query}"
    restored = body(owner_client.get(f"/customers/?{query}", **htmx("customer-table"), HTTP_HX_HISTORY_RESTORE_REQUEST="true"))
    assert "hx-swap-oob" not in restored and restored.count(f'id="id_{field}_error"') == 1


def test_search_by_uin_and_remark(owner_client, customers):
    Customer.objects.filter(pk=customers[1].pk).update(remark="Key account")
    assert uins(body(owner_client.get(f"/customers/?q={customers[2].uin}"))) == [customers[2].uin]
    assert uins(body(owner_client.get("/customers/?q=key+acc"))) == [customers[1].uin]


def test_search_by_the_first_digits_of_a_uin(owner_client, reseller, other_reseller):
    """Issue 14, item 9: a UIN matches from its first digits, at every length a UIN can have."""
    made = {uin: CustomerFactory(reseller=reseller, uin=uin, name="Prefix", email="", remark="").uin
            for uin in (20000000011, 200000000110, 200000000113, 2000000001199, 200000000120, 300000000110)}
    CustomerFactory(reseller=other_reseller, uin=200000000114)  # another reseller's: never listed
    found = uins(body(owner_client.get("/customers/", {"q": "20000000011", "per_page": 100})))
    assert sorted(found) == [20000000011, 200000000110, 200000000113, 2000000001199]
    assert uins(body(owner_client.get("/customers/", {"q": " 2000000001199 "}))) == [made[2000000001199]]
    assert uins(body(owner_client.get("/customers/", {"q": "30000"}))) == [300000000110]
    assert uins(body(owner_client.get("/customers/", {"q": "4"}))) == []


@pytest.mark.parametrize("query", ["²", "١٢٣", "\x00", "9" * 30])
def test_a_search_that_is_no_uin_never_fails(owner_client, customers, query):
    # "²" passes str.isdigit() but not int(); Arabic-Indic digits pass both; neither is a UIN.
    response = owner_client.get("/customers/", {"q": query})
    assert response.status_code == 200
    export = owner_client.get("/customers/export.csv", {"q": query})
    if query == "\x00":
        # A search that cannot be stored is a filter error: the export goes to the page that marks it.
        assert export.status_code == 302 and export["Location"].startswith("/customers/?")
    else:
        assert export.status_code == 200 and body(export).lstrip("\ufeff").startswith("UIN,")


def test_a_uin_in_other_digits_is_not_a_uin(owner_client, customers):
    uin = str(customers[0].uin)
    full_width = uin.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert uins(body(owner_client.get("/customers/", {"q": uin}))) == [customers[0].uin]
    assert uins(body(owner_client.get("/customers/", {"q": full_width}))) == []


def test_sort_by_available_both_ways(owner_client, customers):
    ascending = uins(body(owner_client.get("/customers/?sort=available")))
    assert ascending == [customers[i].uin for i in (3, 2, 1, 4, 0)]  # -200, 50, 240, 500, 900
    assert uins(body(owner_client.get("/customers/?sort=-available"))) == ascending[::-1]


def test_sort_by_used_percent_both_ways(owner_client, reseller, customers):
    """Issue 14, item 10: Used % sorts (the stored used_ratio); credit 0 with usage ("over 100%")
    is the highest, credit 0 with nothing used the lowest."""
    over = CustomerFactory(reseller=reseller, name="Over Nothing")
    set_used(over, "5.00")
    empty = CustomerFactory(reseller=reseller, name="Empty Account")
    ascending = uins(body(owner_client.get("/customers/?sort=used_percent")))
    # Empty 0 (no %), Echo 0 %, Alpha 10 %, Bravo 76 %, Charlie 95 %, Delta 120 %, Over (over 100 %).
    assert ascending[2:6] == [customers[i].uin for i in (0, 1, 2, 3)]
    assert set(ascending[:2]) == {empty.uin, customers[4].uin} and ascending[-1] == over.uin
    assert uins(body(owner_client.get("/customers/?sort=-used_percent"))) == ascending[::-1]


@pytest.mark.parametrize(("sort", "expected"), [
    ("account_status", ["Echo Frozen"]),  # "frozen" before "normal"
    ("-account_status", ["Delta Retail", "Charlie Media", "Bravo Games", "Alpha Labs", "Echo Frozen"]),
    ("email", ["Alpha Labs", "Bravo Games", "Charlie Media", "Delta Retail", "Echo Frozen"]),
    ("-email", ["Echo Frozen", "Delta Retail", "Charlie Media", "Bravo Games", "Alpha Labs"]),
    ("remark", ["Bravo Games"]),
])
def test_sort_by_status_email_and_remark(owner_client, customers, sort, expected):
    Customer.objects.filter(pk=customers[1].pk).update(remark="a first")
    Customer.objects.exclude(pk=customers[1].pk).update(remark="z later")
    names = {c.uin: c.name for c in customers}
    listed = [names[uin] for uin in uins(body(owner_client.get(f"/customers/?sort={sort}")))]
    assert listed[:len(expected)] == expected


def test_unknown_sort_is_ignored(owner_client, customers):
    assert uins(body(owner_client.get("/customers/?sort=password"))) == [c.uin for c in customers]


def test_pagination_and_page_size_bounds(owner_client, reseller, customers):
    html = body(owner_client.get("/customers/?per_page=10&page=1"))
    assert "1–5 of 5" in html
    for i in range(20):
        CustomerFactory(reseller=reseller)
    page2 = body(owner_client.get("/customers/?per_page=10&page=2"))
    assert len(uins(page2)) == 10 and "11–20 of 25" in page2
    assert len(uins(body(owner_client.get("/customers/?per_page=100000")))) == 20  # not a page size we offer
    assert "21–25 of 25" in body(owner_client.get("/customers/?per_page=10&page=99"))  # past the end: last page


def test_htmx_gets_only_the_table_fragment(owner_client, customers):
    response = owner_client.get("/customers/?q=bravo", **htmx("customer-table"))
    html = body(response)
    assert html.lstrip().startswith('<div id="customer-table"') and "<html" not in html
    assert uins(html) == [customers[1].uin]
    assert "HX-Request" in response["Vary"] and "HX-Target" in response["Vary"]


def test_sort_and_page_links_keep_the_search(owner_client, reseller, customers):
    """hx-push-url keeps the list's state in the address bar, so every link must carry it."""
    for n in range(10):
        CustomerFactory(reseller=reseller, name=f"Bravo Studio {n}")  # 11 matches: two pages of 10
    tree = parse_html(body(owner_client.get("/customers/?q=bravo&per_page=10&page=2", **htmx("customer-table"))))
    sort_links = [query(a) for a in elements(tree, "a") if "sort" in (attribute(a, "class") or "").split()]
    pager = next(nav for nav in elements(tree, "nav") if attribute(nav, "class") == "pager")
    page_links = [query(a) for a in elements(pager, "a")]
    # UIN, name, remark, email, binding time, credit, used, available, days to zero, used % and status sort.
    assert len(sort_links) == 11 and all(link["q"] == ["bravo"] and "sort" in link for link in sort_links)
    assert page_links == [{"q": ["bravo"], "per_page": ["10"], "page": ["1"]}] * 2  # "‹" and "1"


def test_history_restore_gets_the_whole_page(owner_client, customers):
    response = owner_client.get("/customers/?q=bravo", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-table",
                                HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<title>My Customers" in body(response)


def test_the_pool_figures_come_from_credits(owner_client, customers):
    """customers imports nothing of credits: the page loads the figures from credits' fragment
    (tests/credits/views/test_pool_figures.py), and links to them for a browser without JavaScript."""
    section = body(owner_client.get("/customers/")).split('<section id="pool-figures"', 1)[1].split("</section>", 1)[0]
    assert 'hx-get="/pool/figures/"' in section and 'hx-trigger="load, creditAllocated from:body"' in section
    assert 'href="/pool/figures/"' in section


def test_row_fragment(owner_client, customers):
    response = owner_client.get(f"/customers/{customers[0].uin}/row/", **htmx())
    html = body(response).strip()
    assert html.startswith(f'<tr id="customer-{customers[0].uin}"') and html.endswith("</tr>")
    assert "Allocate Credit" in html


def test_viewer_sees_no_write_controls(viewer_client, customers):
    html = body(viewer_client.get("/customers/"))
    assert uins(html) == [c.uin for c in customers]
    assert "Allocate Credit" not in html and "Edit remark" not in html and "Custom Balance Warning" not in html
    assert "Allocation Record" in html and "Alert history" in html
    assert "Allocate Credit" not in body(viewer_client.get(f"/customers/{customers[0].uin}/row/", **htmx()))


def test_query_count_does_not_grow_with_the_page(owner_client, reseller, customers):
    for _ in range(30):
        CustomerFactory(reseller=reseller)
    counts = []
    for query in ("per_page=10", "per_page=50", "per_page=50&sort=-available&band=75&q=a"):
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(f"/customers/?{query}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2]
    # session, user, membership, pool, count, page, unread-message bell: nothing per row.
    assert counts[0] <= 7


def test_export_streams_every_filtered_row(owner_client, customers):
    response = owner_client.get("/customers/export.csv?band=90&sort=available&page=3")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = list(csv.reader(io.StringIO(body(response).lstrip("\ufeff"))))
    assert rows[0][:3] == ["UIN", "Name", "Remark"]
    assert "Binding time (Asia/Shanghai)" in rows[0]  # the zone its times are written in
    assert [row[1] for row in rows[1:]] == ["Delta Retail", "Charlie Media"]
    assert rows[1][6:10] == ["1000.00", "1200.00", "-200.00", "120.00"]


def test_export_query_count_is_constant(owner_client, reseller, customers):
    for _ in range(30):
        CustomerFactory(reseller=reseller)
    with CaptureQueriesContext(connection) as queries:
        body(owner_client.get("/customers/export.csv"))
    assert len(queries) <= 6


def test_export_neutralises_spreadsheet_formulas(owner_client, reseller):
    CustomerFactory(reseller=reseller, name="=HYPERLINK(\"http://evil\")", phone="+6591234567")
    rows = list(csv.reader(io.StringIO(body(owner_client.get("/customers/export.csv")).lstrip("\ufeff"))))
    assert rows[1][1] == "'=HYPERLINK(\"http://evil\")" and rows[1][4] == "+6591234567"


def test_remark_edit(owner_client, customer):
    form = body(owner_client.get(f"/customers/{customer.uin}/remark/", **htmx("modal")))
    assert 'value="VIP"' in form and '<label for="id_remark">' in form
    response = owner_client.post(f"/customers/{customer.uin}/remark/", {"remark": "  Key account "}, **htmx("modal"))
    assert response.status_code == 204
    events = json.loads(response["HX-Trigger"])
    assert events["customerUpdated"] == {"uin": customer.uin} and "closeModal" in events
    customer.refresh_from_db()
    assert customer.remark == "Key account"


def test_remark_too_long_is_refused(owner_client, customer):
    response = owner_client.post(f"/customers/{customer.uin}/remark/", {"remark": "x" * 256}, **htmx("modal"))
    assert response.status_code == 200 and 'id="id_remark_error"' in body(response)
    customer.refresh_from_db()
    assert customer.remark == "VIP"


def test_numbers_are_right_aligned_with_two_decimals(owner_client, customers):
    html = body(owner_client.get("/customers/"))
    tree = parse_html(html)
    [credit] = [th for th in elements(tree, "th") if text(th) == "Credit"]
    assert "num" in classes(credit) and [classes(a) >= {"sort"} for a in elements(credit, "a")] == [True]
    assert {frozenset(classes(td)) for td in elements(tree, "td") if text(td) == "1,000.00"} == {frozenset({"num"})}


def test_the_count_is_capped_and_read_without_sorting(owner_client, customers, monkeypatch):
    """100,000 customers are never counted whole, nor sorted to be counted (sorting by available
    reads and sorts every row first)."""
    from console.tables import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    with CaptureQueriesContext(connection) as queries:
        html = body(owner_client.get("/customers/?sort=available&per_page=10"))
    assert "1–3 of 3+" in html
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "customers_customer" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 4" in counts[0] and "ORDER BY" not in counts[0]
    # Nor joined to the balances only the sort needs.
    assert "customerbalance" not in counts[0]


def test_a_usage_filter_still_counts_through_the_balance(owner_client, customers, monkeypatch):
    from console.tables import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    owner_client.get("/customers/?band=75&sort=available&per_page=10")  # its count compiled (core.prepared)
    with CaptureQueriesContext(connection) as queries:
        owner_client.get("/customers/?band=75&sort=available&per_page=10")
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "customers_customer" in q["sql"]]
    assert len(counts) == 1 and "customerbalance" in counts[0] and "usage_band" in counts[0]


def test_a_row_read_as_values_is_the_row_of_the_customer(reseller, customers):
    """The list reads its page as CustomerRow values (customers.selectors.customer_rows), the row
    fragment from a Customer: the same row either way, suspended (days until deletion), frozen,
    overdue, with and without credit, for an owner and a viewer."""
    from customers.models import CustomerBalance
    from customers.selectors import CustomerRow, customer_get, customer_list, customer_rows
    from customers.tables import CustomerTable

    CustomerBalance.objects.filter(customer=customers[3]).update(suspended_at=timezone.now() - timedelta(days=3, hours=2))
    CustomerFactory(reseller=reseller, name="Foxtrot <Zero> & Co", remark='"quoted"', email="")
    rows = list(customer_rows(customer_list(reseller=reseller).order_by("id")))
    assert len(rows) == 6 and all(isinstance(row, CustomerRow) for row in rows)
    assert any(row.days_until_deletion == 12 for row in rows) and any(row.frozen for row in rows)
    for can_write in (True, False):
        table = CustomerTable([], can_write=can_write)
        for row in rows:
            customer = customer_get(reseller=reseller, uin=row.uin)
            assert row.pk == customer.pk and row.deletion_at == customer.deletion_at
            assert table.render_row(row) == table.render_row(customer)


def test_the_page_reads_values_and_counts_the_customers_alone(owner_client, customers):
    with CaptureQueriesContext(connection) as queries:
        html = body(owner_client.get("/customers/?sort=-used&per_page=10"))
    assert len(uins(html)) == 5
    listed = [q["sql"] for q in queries if "customers_customerbalance" in q["sql"]]
    assert len(listed) == 1 and "COUNT" not in listed[0]


@pytest.mark.parametrize("query", ["band=75", "band=90&status=normal", "status=frozen", "runs_out=3650", "band=100&runs_out=0",
                                   "band=75&q=a", "status=overdue&q=zzz", "band=oops"])
def test_a_list_filtered_on_the_balance_alone_is_counted_from_the_balances(owner_client, reseller, customers, other_customer, query):
    """Filtered on the balance only, the count reads the reseller's balances alone (its index), and
    says as many as the list has; a search (or a wrong filter) keeps the customers' count."""
    from django.http import QueryDict

    from credits.services import burn_rates_refresh
    from customers.filters import CustomerFilter
    from customers.selectors import customer_list

    burn_rates_refresh()
    listed = CustomerFilter(QueryDict(query), queryset=customer_list(reseller=reseller)).qs.count()
    owner_client.get(f"/customers/?{query}&per_page=10")  # a count of the balances is compiled on its first run
    with CaptureQueriesContext(connection) as queries:
        html = body(owner_client.get(f"/customers/?{query}&per_page=10"))
    counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)") and "customers_" in q["sql"]
              and "notifications_message" not in q["sql"]]
    assert len(uins(html)) == listed
    if listed:
        assert f"1–{listed} of {listed}" in html
    balance_alone = "q=" not in query and "oops" not in query
    assert len(counts) == (0 if "oops" in query else 1)
    if counts:
        assert ("customers_customer\"" not in counts[0]) == balance_alone, counts[0]


def test_a_search_is_counted_up_to_the_search_cap(owner_client, reseller, customers, monkeypatch):
    """A search counts at most SEARCH_COUNT_CAP customers ("1–4 of 4+" beyond it), and a search that
    found more than it keeps the index order; an unsearched list keeps the paginator's own cap."""
    from console import tables

    for index in range(6):
        CustomerFactory(reseller=reseller, name=f"Zulu {index}", email=f"zulu{index}@ex.example")
    monkeypatch.setattr(tables, "SEARCH_COUNT_CAP", 4)

    def page(url):
        with CaptureQueriesContext(connection) as queries:
            html = body(owner_client.get(url))
        counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)") and "customers_customer" in q["sql"]]
        return html, counts, _page_query(queries)

    html, counts, sql = page("/customers/?q=ex&per_page=10")
    assert "1–4 of 4+" in html and len(uins(html)) == 4
    assert len(counts) == 1 and "LIMIT 5" in counts[0] and "COALESCE" not in sql
    html, counts, sql = page("/customers/?q=Zulu+3&per_page=10")
    assert "1–1 of 1" in html and "1–1 of 1+" not in html
    assert "COALESCE" in sql
    html, counts, sql = page("/customers/?per_page=10")
    assert "1–10 of 11" in html and "LIMIT 10001" in counts[0]


def _page_query(queries) -> str:
    [listed] = [q["sql"] for q in queries if "customers_customerbalance" in q["sql"] and "COUNT" not in q["sql"]]
    return listed


@pytest.mark.parametrize("sort", ["", "available", "-used", "name", "-uin", "account_status", "used_percent"])
def test_a_search_finding_few_customers_sorts_what_it_found(owner_client, reseller, customers, sort, monkeypatch):
    """A search that finds at most SORT_AFTER_READ_MAX customers has its page sorted after the rows
    are read (ORDER BY expressions no index gives, console.tables.sorted_after_read): the same page,
    in the same order, as the list sorted by its indexes; more found, or no search, keeps the index
    order."""
    from console import tables

    for index in range(6):
        CustomerFactory(reseller=reseller, name=f"Zulu {index % 3}", email=f"zulu{index}@ex.example")
    extra = f"&sort={sort}" if sort else ""

    def page(url):
        with CaptureQueriesContext(connection) as queries:
            html = body(owner_client.get(url))
        return uins(html), _page_query(queries)

    monkeypatch.setattr(tables, "SORT_AFTER_READ_MAX", 0)
    by_index, sql = page(f"/customers/?q=ex&per_page=10{extra}")
    assert "COALESCE" not in sql
    monkeypatch.setattr(tables, "SORT_AFTER_READ_MAX", 1000)
    after_read, sql = page(f"/customers/?q=ex&per_page=10{extra}")
    assert after_read == by_index and len(after_read) == 10
    order_by = sql[sql.index("ORDER BY"):]
    assert "COALESCE" in order_by and "LIMIT 10" in order_by
    # Its second page too (the slice kept).
    whole, _ = page(f"/customers/?q=ex&per_page=20{extra}")
    second, sql = page(f"/customers/?q=ex&per_page=10&page=2{extra}")
    assert len(whole) == 11 and whole[:10] == after_read and second == whole[10:] and "OFFSET 10" in sql
    # Unsearched, the page walks the index in its order.
    _, sql = page(f"/customers/?per_page=10{extra}")
    assert "COALESCE" not in sql
