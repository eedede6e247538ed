import json
import re
from decimal import Decimal

import pytest
from django.test.html import parse_html

from credits.models import AllocationRecord, CreditPool
from credits.services import credit_allocate
from customers.models import Customer
from tests.pages import attribute, body, by_id, classes, elements, htmx, set_used, text

pytestmark = pytest.mark.django_db


def url(customer) -> str:
    return f"/customers/{customer.uin}/allocate/"


def idempotency_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)


def state(reseller, customer):
    customer = Customer.objects.get(pk=customer.pk)
    pool = CreditPool.objects.get(reseller=reseller)
    return customer.credit, customer.used, pool.remaining, AllocationRecord.objects.count()


def test_modal_shows_the_figures_and_a_fresh_key(owner_client, reseller, customer):
    credit_allocate(reseller=reseller, customer=customer, amount="400.00")
    set_used(customer, "150.00")
    response = owner_client.get(url(customer), **htmx("modal"))
    html = body(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<dialog class="modal"') and "<html" not in html
    assert " open" not in html.split(">", 1)[0]  # console.js opens it as a modal
    for figure in ("400.00 USD", "150.00 USD", "250.00 USD", "9,600.00 USD"):
        assert figure in html
    assert 'data-max-repossess>250.00 USD' in html
    assert re.search(r'<label for="id_amount">', html) and re.search(r'<label for="id_remark">', html)
    assert 'role="tab"' in html and "Allocation Record" in html
    assert idempotency_key(html) != idempotency_key(body(owner_client.get(url(customer), **htmx("modal"))))


def test_without_javascript_the_modal_is_a_page(owner_client, customer):
    html = body(owner_client.get(url(customer)))
    [dialog] = elements(parse_html(html), "dialog")
    assert "<title>Allocate Credit" in html and classes(dialog) == {"modal"} and "open" in dict(dialog.attributes)
    assert attribute(dialog, "aria-labelledby") == "modal-title"


def test_allocate_answers_204_with_events(owner_client, operator, reseller, customer):
    html = body(owner_client.get(url(customer), **htmx("modal")))
    key = idempotency_key(html)
    response = owner_client.post(url(customer), {"amount": "100", "remark": "Top-up", "idempotency_key": key}, **htmx("modal"))
    assert response.status_code == 204
    events = json.loads(response["HX-Trigger"])
    assert events["creditAllocated"] == {"uin": customer.uin}
    assert "closeModal" in events
    assert events["showMessage"]["text"] == "Allocation successful"
    record = AllocationRecord.objects.get()
    assert (record.amount, record.source, record.operator, record.remark, record.idempotency_key) == (
        Decimal("100.00"), "console", operator.user, "Top-up", key)
    assert state(reseller, customer) == (Decimal("100.00"), Decimal("0.00"), Decimal("9900.00"), 1)


def test_a_repossession_is_confirmed_before_it_moves_anything(owner_client, reseller, customer):
    """Issue 14, item 4: a negative amount first states what happens; Confirm on that step repossesses."""
    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    set_used(customer, "30.00")
    before = state(reseller, customer)
    response = owner_client.post(url(customer), {"amount": "-50", "remark": "Back", "idempotency_key": "r1"},
                                 **htmx("modal"))
    html = body(response)
    assert response.status_code == 200 and "HX-Trigger" not in response
    statement = re.search(r'id="repossess-statement">(.*?)</div>', html, re.S).group(1)
    assert " ".join(re.sub(r"<[^>]+>", "", statement).split()) == (
        f"Take back 50.00 USD from {customer.name}; its available credit becomes 20.00 USD.")
    assert re.search(r'<button type="submit" class="btn btn-danger" data-autofocus>Repossess 50.00 USD</button>', html)
    assert 'name="confirmed" value="True"' in html and 'name="idempotency_key" value="r1"' in html
    assert 'id="id_amount"' not in html  # the step shows no field to change behind the statement
    assert state(reseller, customer) == before

    confirmed = {"amount": "-50", "remark": "Back", "idempotency_key": "r1", "confirmed": "True"}
    response = owner_client.post(url(customer), confirmed, **htmx("modal"))
    assert response.status_code == 204
    events = json.loads(response["HX-Trigger"])
    assert events["showMessage"]["text"] == "Repossession successful"
    assert events["creditAllocated"] == {"uin": customer.uin} and "closeModal" in events
    assert state(reseller, customer) == (Decimal("50.00"), Decimal("30.00"), Decimal("9950.00"), 2)
    record = AllocationRecord.objects.first()
    assert (record.amount, record.remark) == (Decimal("-50.00"), "Back")

    # A double click on the step's button sends the same key again: nothing more is taken back.
    assert owner_client.post(url(customer), confirmed, **htmx("modal")).status_code == 204
    assert state(reseller, customer) == (Decimal("50.00"), Decimal("30.00"), Decimal("9950.00"), 2)


def test_back_on_the_confirmation_step_returns_to_the_form_as_typed(owner_client, reseller, customer):
    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    data = {"amount": "-50", "remark": "Oops", "idempotency_key": "r2", "confirmed": "True", "edit": "1"}
    html = body(owner_client.post(url(customer), data, **htmx("modal")))
    assert 'value="-50"' in html and 'value="Oops"' in html and 'name="idempotency_key" value="r2"' in html
    assert "repossess-statement" not in html and 'name="confirmed"' not in html and "id_amount_error" not in html
    assert AllocationRecord.objects.count() == 1


def test_a_confirmed_repossession_that_became_too_large_is_refused_in_the_form(owner_client, reseller, customer):
    """Usage arrived between the statement and the confirmation: the service's rule still holds."""
    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    set_used(customer, "80.00")
    before = state(reseller, customer)
    data = {"amount": "-50", "idempotency_key": "r3", "confirmed": "True"}
    html = body(owner_client.post(url(customer), data, **htmx("modal")))
    assert "customer's available credit (20.00 USD)" in text(by_id(html, "id_amount_error"))
    assert 'name="confirmed"' not in html  # the next Confirm states the repossession again
    assert state(reseller, customer) == before


def test_the_dialog_uses_the_seeds_words(owner_client, customer):
    """Issue 14, item 6: the field is "Allocated amount"; the dialog states the terms briefly."""
    html = body(owner_client.get(url(customer), **htmx("modal")))
    assert re.search(r'<label for="id_amount">Allocated amount \(USD\)</label>', html)
    notes = text(by_id(html, "allocate-notes"))
    for words in ("takes effect immediately", "list price, excluding vouchers", "monitoring can lag",
                  "you pay for your customers' usage"):
        assert words in notes


def test_a_repeated_key_allocates_once(owner_client, reseller, customer):
    data = {"amount": "100.00", "idempotency_key": "double-click"}
    first = owner_client.post(url(customer), data, **htmx("modal"))
    second = owner_client.post(url(customer), data, **htmx("modal"))
    assert (first.status_code, second.status_code) == (204, 204)
    assert state(reseller, customer) == (Decimal("100.00"), Decimal("0.00"), Decimal("9900.00"), 1)


@pytest.mark.parametrize(("amount", "message"), [
    ("-60.01", "The maximum credit you can repossess must be not greater than the customer's available credit (60.00 USD)."),
    ("10000.01", "Your remaining customer credit is 9,900.00 USD"),
    ("1.005", "at most 2 decimal places"),
    ("0", "cannot be zero"),
    ("abc", "Enter the amount as digits"),
    ("-99999999", "The maximum credit you can repossess must be not greater than the customer's available credit (60.00 USD)."),
    ("999999999", "Your remaining customer credit is 9,900.00 USD; you cannot allocate 999,999,999.00 USD."),
    ("9" * 30, "must not exceed 10,000,000.00 USD per operation"),
    ("-" + "9" * 27, "must not exceed 10,000,000.00 USD per operation"),
])
def test_refusals_show_beside_the_amount_and_change_nothing(owner_client, reseller, customer, amount, message):
    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    set_used(customer, "40.00")
    before = state(reseller, customer)
    response = owner_client.post(url(customer), {"amount": amount, "idempotency_key": "k-" + amount}, **htmx("modal"))
    html = body(response)
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert message in text(by_id(html, "id_amount_error"))
    assert 'aria-invalid="true"' in html and f'value="{amount}"' in html
    assert state(reseller, customer) == before


def test_a_nul_character_in_the_remark_is_a_field_error(owner_client, reseller, customer):
    before = state(reseller, customer)
    data = {"amount": "5", "remark": "a\x00b", "idempotency_key": "nul"}
    response = owner_client.post(url(customer), data, **htmx("modal"))
    assert response.status_code == 200 and 'id="id_remark_error"' in body(response)
    assert state(reseller, customer) == before


def test_missing_amount_is_a_field_error(owner_client, reseller, customer):
    response = owner_client.post(url(customer), {"amount": "", "idempotency_key": "k"}, **htmx("modal"))
    assert response.status_code == 200 and 'id="id_amount_error"' in body(response)
    assert AllocationRecord.objects.count() == 0


def test_reused_key_for_another_amount_is_refused_with_a_new_key(owner_client, reseller, customer):
    owner_client.post(url(customer), {"amount": "100", "idempotency_key": "used-once"}, **htmx("modal"))
    response = owner_client.post(url(customer), {"amount": "200", "idempotency_key": "used-once"}, **htmx("modal"))
    html = body(response)
    assert response.status_code == 200 and "already used for a different allocation" in html
    assert idempotency_key(html) != "used-once"
    assert AllocationRecord.objects.count() == 1


def test_without_javascript_success_redirects_with_the_message(owner_client, reseller, customer):
    response = owner_client.post(url(customer), {"amount": "100", "idempotency_key": "plain"}, follow=True)
    assert response.redirect_chain == [("/customers/", 302)]
    assert "Allocation successful" in body(response)
    assert AllocationRecord.objects.count() == 1


def test_modal_lists_the_customers_records(owner_client, reseller, customer, other_customer):
    credit_allocate(reseller=reseller, customer=customer, amount="100.00", remark="first")
    credit_allocate(reseller=reseller, customer=customer, amount="-30.00")
    html = body(owner_client.get(url(customer), **htmx("modal")))
    panel = html.split('id="panel-records"', 1)[1]
    assert "+100.00" in panel and "-30.00" in panel
    assert panel.index("-30.00") < panel.index("+100.00")  # newest first
    # Issue 14, item 7: the tab has a Remark column.
    headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', panel)
    assert headers == ["Time", "Type", "Amount", "Credit after", "Available after", "Operator", "Remark"]
    assert '<td class="cell-remark" title="first">first</td>' in panel


def test_operator_and_admin_both_allocate(reseller, customer):
    from customers.models import Member
    from tests.factories import MemberFactory
    from tests.pages import client_for

    for role in (Member.Role.ADMIN, Member.Role.OPERATOR):
        client = client_for(MemberFactory(reseller=reseller, role=role).user)
        response = client.post(url(customer), {"amount": "1", "idempotency_key": f"role-{role}"}, **htmx("modal"))
        assert response.status_code == 204
    assert AllocationRecord.objects.count() == 2


@pytest.mark.parametrize("key", ["", "k" * 65, "a\x00b"])
def test_a_missing_or_broken_key_is_said_on_top_and_renewed(owner_client, reseller, customer, key):
    # The key is a hidden field: its own error would show nowhere, leaving Confirm silently dead.
    before = state(reseller, customer)
    response = owner_client.post(url(customer), {"amount": "5", "idempotency_key": key}, **htmx("modal"))
    html = body(response)
    assert response.status_code == 200 and "HX-Trigger" not in response
    [alert] = [div for div in elements(parse_html(html), "div") if attribute(div, "role") == "alert"]
    assert classes(alert) == {"alert", "alert-error"} and text(alert).startswith("This form arrived incomplete or altered")
    assert idempotency_key(html) != key
    assert state(reseller, customer) == before
    data = {"amount": "5", "idempotency_key": idempotency_key(html)}
    assert owner_client.post(url(customer), data, **htmx("modal")).status_code == 204
