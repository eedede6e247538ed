"""credit_allocate outside any transaction on PostgreSQL: its statement alone, committed as it ends
(services._ALLOCATE_ALONE), with no BEGIN or COMMIT around it. It commits only a whole allocation
with nothing more to do; every other case is rolled back by the statement itself and answered by
the transaction it then runs, exactly as inside a transaction."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import IdempotencyConflict, InsufficientPoolBalance, RepossessTooMuch
from credits.models import AllocationRecord, CreditPool
from credits.services import credit_allocate, pool_grant, usage_charge_record
from customers.models import Customer, CustomerBalance, StatusEvent
from tests.factories import CustomerFactory, ResellerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def shop():
    reseller = ResellerFactory()
    pool_grant(reseller=reseller, amount="100.00")
    return reseller, CustomerFactory(reseller=reseller)


def statements(captured) -> list[str]:
    """The statements sent, by their first word; the PREPARE a connection sends once is left out."""
    return [query["sql"].split()[0] for query in captured.captured_queries if not query["sql"].startswith("PREPARE")]


def state(reseller, customer) -> tuple:
    balance = CustomerBalance.objects.get(pk=customer.pk)
    pool = CreditPool.objects.get(reseller=reseller)
    return balance.credit, balance.used, pool.remaining, AllocationRecord.objects.filter(reseller=reseller).count()


def test_an_allocation_is_one_statement_committed_on_its_own(shop, enqueued):
    reseller, customer = shop
    assert not connection.in_atomic_block and connection.get_autocommit()
    with enqueued() as sent, CaptureQueriesContext(connection) as captured:
        record = credit_allocate(reseller=reseller, customer=customer.pk, amount="30.00", source="system")
    assert statements(captured) == ["EXECUTE"]
    assert sent == [("notifications.tasks.customer_evaluate", (customer.pk,))]
    assert state(reseller, customer) == (Decimal("30.00"), Decimal("0.00"), Decimal("70.00"), 1)
    stored = AllocationRecord.objects.get()
    assert record == stored and not record._state.adding
    assert (record.credit_after, record.available_after, record.pool_remaining_after) == (
        stored.credit_after, stored.available_after, stored.pool_remaining_after) == (
        Decimal("30.00"), Decimal("30.00"), Decimal("70.00"))
    # A repossession too.
    with CaptureQueriesContext(connection) as captured:
        record = credit_allocate(reseller=reseller, customer=customer, amount="-10.00", source="system")
    assert statements(captured) == ["EXECUTE"]
    assert record.available_after == Decimal("20.00") and record.pool_remaining_after == Decimal("80.00")
    assert state(reseller, customer) == (Decimal("20.00"), Decimal("0.00"), Decimal("80.00"), 2)


def test_a_pool_refusal_is_rolled_back_by_the_statement_then_answered(shop, enqueued):
    reseller, customer = shop
    with enqueued() as sent, pytest.raises(InsufficientPoolBalance):
        credit_allocate(reseller=reseller, customer=customer, amount="100.01")
    # The balance the statement had updated before the pool refused was rolled back with it.
    assert state(reseller, customer) == (Decimal("0.00"), Decimal("0.00"), Decimal("100.00"), 0)
    assert sent == []


def test_a_repossession_refusal_changes_nothing(shop):
    reseller, customer = shop
    credit_allocate(reseller=reseller, customer=customer, amount="10.00")
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal("4.00"))
    with pytest.raises(RepossessTooMuch):
        credit_allocate(reseller=reseller, customer=customer, amount="-6.01")
    assert state(reseller, customer) == (Decimal("10.00"), Decimal("4.00"), Decimal("90.00"), 1)


def test_a_used_key_is_rolled_back_by_the_statement_and_answered_with_the_first_record(shop, enqueued):
    reseller, customer = shop
    first = credit_allocate(reseller=reseller, customer=customer, amount="10.00", idempotency_key="k-1")
    with enqueued() as sent:
        again = credit_allocate(reseller=reseller, customer=customer, amount="10.00", idempotency_key="k-1")
    assert again.pk == first.pk and again.replayed
    assert sent == []
    assert state(reseller, customer) == (Decimal("10.00"), Decimal("0.00"), Decimal("90.00"), 1)
    with pytest.raises(IdempotencyConflict):
        credit_allocate(reseller=reseller, customer=customer, amount="11.00", idempotency_key="k-1")
    assert state(reseller, customer) == (Decimal("10.00"), Decimal("0.00"), Decimal("90.00"), 1)


def test_crossing_zero_is_done_in_a_transaction_with_its_status_event(shop, enqueued):
    reseller, customer = shop
    credit_allocate(reseller=reseller, customer=customer, amount="10.00")
    usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount="15.00", incurred_at=timezone.now(),
                        external_id="bill-1")
    assert list(StatusEvent.objects.filter(customer=customer).values_list("kind", "cause")) == [("overdue", "usage")]
    # Still overdue after it (available -5.00 + 4.00): no crossing, the statement commits alone.
    with CaptureQueriesContext(connection) as captured:
        credit_allocate(reseller=reseller, customer=customer, amount="4.00")
    assert statements(captured) == ["EXECUTE"]
    assert StatusEvent.objects.filter(customer=customer).count() == 1
    # Back to >= 0: rolled back by the statement, then done in a transaction that records the event.
    with enqueued() as sent, CaptureQueriesContext(connection) as captured:
        record = credit_allocate(reseller=reseller, customer=customer, amount="1.00")
    assert statements(captured)[:3] == ["EXECUTE", "BEGIN", "WITH"] and statements(captured)[-1] == "COMMIT"
    assert record.available_after == Decimal("0.00")
    # The event's notices (deliveries_send), then the evaluation.
    assert sent[-1] == ("notifications.tasks.customer_evaluate", (customer.pk,))
    assert list(StatusEvent.objects.filter(customer=customer).order_by("id").values_list("kind", "cause")) == [
        ("overdue", "usage"), ("resumed", "allocation")]
    assert state(reseller, customer) == (Decimal("15.00"), Decimal("15.00"), Decimal("85.00"), 3)
    assert Customer.objects.get(pk=customer.pk).available == Decimal("0.00")


def test_the_statement_is_prepared_once_per_connection_and_again_when_the_session_lost_it(shop):
    reseller, customer = shop
    with CaptureQueriesContext(connection) as captured:
        for amount in ("1.00", "2.00", "3.00"):
            credit_allocate(reseller=reseller, customer=customer, amount=amount)
    sent = [query["sql"].split()[0] for query in captured.captured_queries]
    assert sent in (["EXECUTE"] * 3, ["PREPARE"] + ["EXECUTE"] * 3)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with CaptureQueriesContext(connection) as captured:
        record = credit_allocate(reseller=reseller, customer=customer, amount="4.00")
    # The EXECUTE refused (no such statement; nothing ran), PREPARE, EXECUTE.
    assert [query["sql"].split()[0] for query in captured.captured_queries] == ["EXECUTE", "PREPARE", "EXECUTE"]
    assert record.credit_after == Decimal("10.00")
    assert state(reseller, customer) == (Decimal("10.00"), Decimal("0.00"), Decimal("90.00"), 4)


def test_inside_a_transaction_the_allocation_is_part_of_it(shop):
    from django.db import transaction

    reseller, customer = shop
    with pytest.raises(RuntimeError), transaction.atomic():
        credit_allocate(reseller=reseller, customer=customer, amount="10.00")
        raise RuntimeError("the caller's transaction rolls back")
    assert state(reseller, customer) == (Decimal("0.00"), Decimal("0.00"), Decimal("100.00"), 0)
