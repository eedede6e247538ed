"""The operator's admin lists of the big tables (console/admin_lists.py): each opens with its rows,
filtered and searched, in a fixed number of queries; none counts or sorts the whole table."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from console.admin_lists import EstimatedCountPaginator
from credits.models import AllocationRecord
from credits.services import credit_allocate, repayment_confirm, usage_charge_record
from notifications.models import Alert, Delivery, Message
from notifications.services.evaluation import customer_alerts_evaluate
from notifications.tasks import deliveries_send
from tests.factories import CustomerFactory, MemberFactory

pytestmark = pytest.mark.django_db

# Per list page, whatever its rows: session, user, the page's rows (relations joined), the count (at
# most a capped count and the planner's estimate), the admin's log and filters; no query per row.
MAX_QUERIES = 10


@pytest.fixture
def operator_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("platform", "ops@example.com", "platform-password")
    client.force_login(admin)
    return client


@pytest.fixture
def world(funded_reseller):
    """Six customers with records, charges and a repayment; the last three past 90 % with their
    alerts, deliveries and Message Center messages."""
    MemberFactory(reseller=funded_reseller, role="admin")
    customers = [CustomerFactory(reseller=funded_reseller, name=f"Findable {i}") for i in range(6)]
    for i, customer in enumerate(customers):
        credit_allocate(reseller=funded_reseller, customer=customer, amount="100", remark="seed")
        usage_charge_record(reseller=funded_reseller, customer_uin=customer.uin, amount="95" if i >= 3 else "10",
                            incurred_at=datetime(2026, 11, 1, tzinfo=UTC), external_id=f"bill-{i}", product="cvm")
        repayment_confirm(reseller=funded_reseller, customer=customer, amount="1", actor=None, idempotency_key=f"r-{i}")
        customer_alerts_evaluate(customer_id=customer.pk)
    deliveries_send(list(Delivery.objects.filter(channel="inbox").values_list("id", flat=True)))
    assert Alert.objects.count() >= 3 and Delivery.objects.exists() and Message.objects.exists()
    return customers


LISTS = {
    "credits_allocationrecord": ["", "?source__exact=console", "?created_at__gte=2000-01-01"],
    "credits_usagecharge": ["", "?source__exact=api", "?incurred_at__gte=2000-01-01"],
    "credits_repayment": ["", "?created_at__gte=2000-01-01"],
    "notifications_alert": ["", "?threshold=90", "?kind__exact=threshold&covered__exact=0"],
    "notifications_delivery": ["", "?status__exact=pending&channel__exact=email", "?recipient_kind__exact=member"],
    "notifications_message": ["", "?for_customer__exact=0"],
}


@pytest.mark.parametrize(("model", "query"), [(m, q) for m, queries in LISTS.items() for q in queries])
def test_each_list_opens_with_its_rows_in_a_fixed_number_of_queries(
    operator_client, world, model, query, django_assert_max_num_queries
):
    url = reverse(f"admin:{model}_changelist") + query
    with django_assert_max_num_queries(MAX_QUERIES):
        response = operator_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) > 0
    assert "Findable" in response.content.decode() or model == "notifications_delivery"


@pytest.mark.parametrize("model", list(LISTS))
def test_each_list_finds_a_customer_by_uin_and_by_name(operator_client, world, model, django_assert_max_num_queries):
    target = world[4]  # past 90 %: it has alerts, deliveries and messages too
    url = reverse(f"admin:{model}_changelist")
    with django_assert_max_num_queries(MAX_QUERIES):
        response = operator_client.get(url, {"q": str(target.uin)})
    rows = response.context["cl"].result_list
    assert response.status_code == 200 and len(rows) > 0
    assert all(_customer_of(row) == target.pk for row in rows)
    by_name = operator_client.get(url, {"q": "findable 4"}).context["cl"].result_list
    assert {_customer_of(row) for row in by_name} == {target.pk}
    assert list(operator_client.get(url, {"q": "nobody by that name"}).context["cl"].result_list) == []


def _customer_of(row) -> int:
    return row.alert.customer_id if isinstance(row, Delivery) else row.customer_id


def test_a_uin_search_compares_numbers_so_the_customer_index_serves_it(operator_client, world):
    """Django's own `=customer__uin` search casts the UIN to text, which no index serves."""
    with CaptureQueriesContext(connection) as captured:
        operator_client.get(reverse("admin:credits_allocationrecord_changelist"), {"q": str(world[0].uin)})
    rows_query = next(q["sql"] for q in captured.captured_queries if "credits_allocationrecord" in q["sql"] and "LIMIT" in q["sql"])
    assert f'"customers_customer"."uin" = {world[0].uin}' in rows_query
    assert "CAST" not in rows_query.upper() and "::VARCHAR" not in rows_query.upper()


@pytest.mark.parametrize("model", list(LISTS))
def test_no_list_counts_or_sorts_the_whole_table(operator_client, world, model):
    with CaptureQueriesContext(connection) as captured:
        operator_client.get(reverse(f"admin:{model}_changelist"))
    table = model
    for query in captured.captured_queries:
        sql = query["sql"]
        if f'FROM "{table}"' not in sql:
            continue
        if "COUNT(" in sql.upper():
            assert "LIMIT" in sql, sql  # a capped count, never COUNT(*) of the table
        if "ORDER BY" in sql:
            assert f'ORDER BY "{table}"."id" DESC' in sql, sql  # newest first by primary key


def test_the_threshold_filter_offers_the_default_thresholds_without_reading_the_table(operator_client, world):
    with CaptureQueriesContext(connection) as captured:
        response = operator_client.get(reverse("admin:notifications_alert_changelist"))
    assert not any("DISTINCT" in q["sql"].upper() for q in captured.captured_queries)
    page = response.content.decode()
    assert "?threshold=75" in page and "?threshold=90" in page and "?threshold=100" in page
    ninety = operator_client.get(reverse("admin:notifications_alert_changelist"), {"threshold": "90"})
    assert {alert.threshold for alert in ninety.context["cl"].result_list} == {90}


def test_lists_stay_read_only(operator_client, world):
    charge = world[0].usage_charges.get()
    assert operator_client.get(reverse("admin:credits_usagecharge_add")).status_code == 403
    change = operator_client.get(reverse("admin:credits_usagecharge_change", args=[charge.pk]))
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert operator_client.post(reverse("admin:credits_usagecharge_delete", args=[charge.pk]), {"post": "yes"}).status_code == 403


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates come from PostgreSQL's statistics")
def test_beyond_the_cap_the_count_is_an_estimate_and_says_so(operator_client, world, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "cap", 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE credits_allocationrecord")  # the statistics autovacuum would keep
    total = AllocationRecord.objects.count()
    response = operator_client.get(reverse("admin:credits_allocationrecord_changelist"))
    paginator = response.context["cl"].paginator
    assert paginator.estimated and paginator.count >= 3
    assert f"about {paginator.count} allocation records" in " ".join(response.content.decode().split())
    # Filtered beyond the cap: the planner's estimate, at least the rows counted.
    filtered = operator_client.get(reverse("admin:credits_allocationrecord_changelist"), {"source__exact": "console"})
    assert filtered.context["cl"].paginator.estimated and filtered.context["cl"].paginator.count >= 3
    # Within the cap: exact.
    one = operator_client.get(reverse("admin:credits_allocationrecord_changelist"), {"q": str(world[0].uin)})
    assert not one.context["cl"].paginator.estimated and one.context["cl"].paginator.count == 1
    assert total == 6


def test_an_exact_count_within_the_cap(operator_client, world):
    response = operator_client.get(reverse("admin:credits_repayment_changelist"))
    paginator = response.context["cl"].paginator
    assert not paginator.estimated and paginator.count == 6
    assert "6 repayments" in " ".join(response.content.decode().split())
    assert world[0].repayments.get().amount == Decimal("1.00")
