"""Freeze / unfreeze from My Customers (a confirmation modal), the status history, the status
column, the status filter and the Overview's counts per status."""

import json

from django.test import Client

from customers.models import CustomerBalance, StatusEvent
from tests.pages import body, by_id, htmx, set_used, text


def _freeze_url(customer):
    return f"/customers/{customer.uin}/freeze/"


def test_freeze_confirmation_then_freeze_and_unfreeze(owner_client, customer, enqueued):
    modal = owner_client.get(_freeze_url(customer), **htmx("modal"))
    assert modal.status_code == 200
    html = body(modal)
    assert html.lstrip().startswith("<dialog") and "Freeze customer" in html
    assert "stops this customer from making new purchases" in html
    assert not CustomerBalance.objects.get(pk=customer.pk).frozen  # showing the dialog changes nothing

    with enqueued() as sent:
        response = owner_client.post(_freeze_url(customer), {}, **htmx("modal"))
    assert response.status_code == 204
    events = json.loads(response["HX-Trigger"])
    assert {"closeModal", f"customerUpdated-{customer.uin}"} <= set(events)
    assert CustomerBalance.objects.get(pk=customer.pk).status == "frozen"
    assert any(task == "notifications.tasks.deliveries_send" for task, *_ in sent)

    row = by_id(body(owner_client.get(f"/customers/{customer.uin}/row/", **htmx())), f"customer-{customer.uin}")
    assert "Frozen" in text(row) and "Unfreeze" in text(row)

    html = body(owner_client.get(_freeze_url(customer), **htmx("modal")))
    assert "Unfreeze customer" in html and "available credit to be 0 or more" in html
    assert owner_client.post(_freeze_url(customer), {}, **htmx("modal")).status_code == 204
    assert CustomerBalance.objects.get(pk=customer.pk).status == "normal"
    assert list(StatusEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True)) == [
        "frozen", "unfrozen"]


def test_unfreeze_below_zero_is_refused_in_the_dialog(owner_client, customer):
    owner_client.post(_freeze_url(customer), {}, **htmx("modal"))
    set_used(customer, "10.00")
    response = owner_client.post(_freeze_url(customer), {}, **htmx("modal"))
    assert response.status_code == 200
    assert "allocate credit until it is 0 or more" in body(response)
    assert CustomerBalance.objects.get(pk=customer.pk).frozen
    assert StatusEvent.objects.filter(customer=customer).count() == 1


def test_freeze_access(viewer_client, stranger_client, other_customer, owner_client, customer):
    assert viewer_client.get(_freeze_url(customer)).status_code == 403
    assert viewer_client.post(_freeze_url(customer), {}).status_code == 403
    assert stranger_client.post(_freeze_url(customer), {}).status_code in (403, 404)
    assert owner_client.post(_freeze_url(other_customer), {}).status_code == 404
    anonymous = Client().post(_freeze_url(customer), {})
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert not CustomerBalance.objects.filter(frozen=True).exists()
    assert not StatusEvent.objects.exists()


def test_status_history_modal_and_page(owner_client, viewer_client, customer, other_customer):
    owner_client.post(_freeze_url(customer), {}, **htmx("modal"))
    url = f"/customers/{customer.uin}/status/"
    html = body(viewer_client.get(url, **htmx("modal")))
    assert html.lstrip().startswith("<dialog") and 'id="status-history"' in html
    timeline = by_id(html, "status-history")
    assert "Frozen" in text(timeline) and "Normal → Frozen" in text(timeline) and "Console" in text(timeline)
    assert "<html" in body(viewer_client.get(url))
    assert viewer_client.get(f"/customers/{other_customer.uin}/status/").status_code == 404
    assert Client().get(url).status_code == 302


def test_status_filter_and_overview_counts(owner_client, customer, reseller):
    from tests.factories import CustomerFactory

    overdue = CustomerFactory(reseller=reseller, name="Late Payer")
    set_used(overdue, "5.00")
    listed = body(owner_client.get("/customers/?status=overdue"))
    assert "Late Payer" in listed and "Harbor Games" not in listed
    listed = body(owner_client.get("/customers/?status=normal"))
    assert "Harbor Games" in listed and "Late Payer" not in listed
    overview = body(owner_client.get("/"))
    counts = by_id(overview, "customers-heading")  # the heading exists; the counts follow it
    assert counts is not None
    assert 'href="/customers/?status=overdue"' in overview
    import re

    found = dict(re.findall(r'\?status=(\w+)"><span class="stat-label">[^<]+</span><span class="stat-value num">(\d+)<',
                            overview))
    assert found == {"normal": "1", "overdue": "1", "frozen": "0", "suspended": "0", "deleted": "0"}


def test_a_suspended_row_shows_the_days_until_deletion(owner_client, customer, reseller):
    from datetime import timedelta

    from django.utils import timezone

    reseller.suspension_allowlisted = True
    reseller.save()
    html = body(owner_client.get(_freeze_url(customer), **htmx("modal")))
    assert "suspension-rule allowlist" in html
    owner_client.post(_freeze_url(customer), {}, **htmx("modal"))
    CustomerBalance.objects.filter(pk=customer.pk).update(suspended_at=timezone.now() - timedelta(days=8, hours=1))
    row = by_id(body(owner_client.get(f"/customers/{customer.uin}/row/", **htmx())), f"customer-{customer.uin}")
    assert "Suspended" in text(row) and "data deleted in 7 d" in text(row)
