"""credits.services.usage_charges_ingest: a batch of charges in set-based statements, all or
nothing, idempotent by external id, one evaluation task per batch (issue 10)."""

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.errors import CustomerNotBound, IdempotencyConflict
from credits.models import UsageCharge
from credits.services import usage_charge_check, usage_charges_ingest
from customers.models import Customer
from notifications import tasks
from notifications.models import Alert, Delivery
from notifications.services import customer_alerts_evaluate, customers_alerts_evaluate, reseller_day
from tests.factories import CustomerFactory, ResellerFactory
from tests.partnercenter.test_celery import failed_enqueues
from tests.threads import run_together

pytestmark = pytest.mark.django_db


def charge(customer, external_id, amount="1.00", **extra):
    return usage_charge_check(customer_uin=customer.uin, amount=amount, incurred_at=timezone.now() - timedelta(hours=1),
                              external_id=external_id, source="import", **extra)


def used(customer) -> Decimal:
    return Customer.objects.get(pk=customer.pk).used


def charged(customer) -> Decimal:
    return sum(UsageCharge.objects.filter(customer=customer).values_list("amount", flat=True), Decimal("0.00"))


@pytest.fixture
def shop():
    reseller = ResellerFactory()
    customers = [CustomerFactory(reseller=reseller, credit=Decimal("100.00")) for _ in range(3)]
    return reseller, customers


def test_a_batch_adds_each_customer_its_sum_and_enqueues_one_task(shop, enqueued):
    reseller, (a, b, c) = shop
    rows = [charge(b, "e-1", "2.50"), charge(a, "e-2", "1.25", product="CVM"), charge(b, "e-3", "0.25")]
    with enqueued() as sent:
        result = usage_charges_ingest(reseller=reseller, rows=rows)
    assert (result.created, result.replayed, result.customer_ids) == (3, 0, sorted([a.pk, b.pk]))
    assert (used(a), used(b), used(c)) == (Decimal("1.25"), Decimal("2.75"), Decimal("0.00"))
    assert UsageCharge.objects.get(external_id="e-2").product == "CVM"
    assert set(UsageCharge.objects.values_list("source", flat=True)) == {"import"}
    assert sent == [("notifications.tasks.customers_evaluate", (sorted([a.pk, b.pk]),))]


def test_a_batch_of_one_customer_enqueues_its_own_evaluation(shop, enqueued):
    reseller, (a, _, _) = shop
    with enqueued() as sent:
        usage_charges_ingest(reseller=reseller, rows=[charge(a, "e-1"), charge(a, "e-2")])
    assert sent == [("notifications.tasks.customer_evaluate", (a.pk,))]


def test_replays_across_batches_are_counted_and_not_added_again(shop, enqueued):
    reseller, (a, b, _) = shop
    usage_charges_ingest(reseller=reseller, rows=[charge(a, "e-1", "3.00"), charge(b, "e-2", "4.00")])
    with enqueued() as sent:
        result = usage_charges_ingest(
            reseller=reseller, rows=[charge(a, "e-1", "3.00"), charge(b, "e-2", "4.00"), charge(b, "e-3", "1.00")]
        )
    assert (result.created, result.replayed, result.customer_ids) == (1, 2, [b.pk])
    assert (used(a), used(b)) == (Decimal("3.00"), Decimal("5.00"))
    assert sent == [("notifications.tasks.customer_evaluate", (b.pk,))]
    with enqueued() as sent:
        result = usage_charges_ingest(reseller=reseller, rows=[charge(a, "e-1", "3.00")])
    assert (result.created, result.replayed, result.customer_ids) == (0, 1, [])
    assert sent == []


def test_an_identical_repeat_within_the_batch_counts_once(shop):
    reseller, (a, _, _) = shop
    result = usage_charges_ingest(reseller=reseller, rows=[charge(a, "e-1", "3.00"), charge(a, "e-1", "3.00")])
    assert (result.created, result.replayed) == (1, 1)
    assert used(a) == Decimal("3.00")


@pytest.mark.parametrize("where", ["earlier batch", "same batch"])
@pytest.mark.parametrize("differs", ["amount", "customer"])
def test_a_reused_external_id_for_a_different_charge_refuses_the_whole_batch(shop, enqueued, where, differs):
    reseller, (a, b, c) = shop
    first = charge(a, "e-1", "3.00")
    twin = charge(a, "e-1", "9.99") if differs == "amount" else charge(b, "e-1", "3.00")
    earlier = [first] if where == "earlier batch" else []
    if earlier:
        usage_charges_ingest(reseller=reseller, rows=earlier)
    batch = [charge(c, "fresh-1", "5.00"), charge(b, "fresh-2", "6.00"), *([] if earlier else [first]), twin]
    with enqueued() as sent, pytest.raises(IdempotencyConflict) as error:
        usage_charges_ingest(reseller=reseller, rows=batch)
    assert error.value.field == "external_id"
    assert error.value.message == (
        f"The external id 'e-1' was already used for a different charge (3.00 USD to customer {a.uin})."
    )
    assert sent == []
    assert not UsageCharge.objects.filter(external_id__startswith="fresh").exists()
    assert (used(a), used(b), used(c)) == ((Decimal("3.00") if earlier else Decimal("0.00")), Decimal("0.00"), Decimal("0.00"))


def test_a_customer_of_another_reseller_refuses_the_whole_batch_naming_it(shop, enqueued):
    reseller, (a, b, _) = shop
    stranger = CustomerFactory()
    with enqueued() as sent, pytest.raises(CustomerNotBound) as error:
        usage_charges_ingest(reseller=reseller, rows=[charge(a, "e-1"), charge(stranger, "e-2"), charge(b, "e-3")])
    assert error.value.code == "UnauthorizedOperation.UinNoAuth" and str(stranger.uin) in error.value.message
    assert sent == [] and not UsageCharge.objects.exists()
    assert used(a) == used(b) == used(stranger) == Decimal("0.00")


def test_external_ids_are_per_reseller(shop):
    reseller, (a, _, _) = shop
    other = CustomerFactory()
    usage_charges_ingest(reseller=reseller, rows=[charge(a, "e-1", "1.00")])
    result = usage_charges_ingest(reseller=other.reseller, rows=[charge(other, "e-1", "2.00")])
    assert result.created == 1 and used(other) == Decimal("2.00")


def test_a_failed_enqueue_is_logged_and_the_batch_stays_recorded(shop, enqueued, caplog):
    reseller, (a, b, _) = shop
    with enqueued(failing=OperationalError("Connection refused.")) as sent:
        result = usage_charges_ingest(reseller=reseller, rows=[charge(a, "e-1"), charge(b, "e-2")])
    assert result.created == 2 and UsageCharge.objects.count() == 2
    assert sent == [("notifications.tasks.customers_evaluate", (sorted([a.pk, b.pk]),))]
    assert failed_enqueues(caplog, tasks.customers_evaluate)


def _scenario(reseller, tag: str) -> list:
    """Customers in every state an evaluation distinguishes: under every threshold, across one,
    across several at once, over 100 %, under a custom warning, and back under an open alert."""
    states = [("100.00", "10.00", None), ("100.00", "80.00", None), ("100.00", "95.00", None),
              ("100.00", "120.00", None), ("0.00", "5.00", None), ("100.00", "40.00", 70), ("100.00", "30.00", None)]
    customers = []
    for n, (credit, spent, warning) in enumerate(states):
        customers.append(CustomerFactory(reseller=reseller, uin=int(f"8{tag}000000{n:03d}"), credit=Decimal(credit),
                                         used=Decimal(spent), custom_warning_percent=warning))
    # The last one was alerted at 90 % yesterday and is back under it: its evaluation re-arms it.
    rearm = customers[-1]
    Alert.objects.create(reseller=reseller, customer=rearm, kind="threshold", threshold=90,
                         day=reseller_day(reseller.time_zone, timezone.now()) - timedelta(days=1), credit=Decimal("100.00"),
                         used=Decimal("95.00"), available=Decimal("5.00"))
    return customers


def _outcome(customers) -> list:
    return [
        (sorted((a.kind, a.threshold, a.covered, a.reminder, a.used, a.rearmed_at is None)
                for a in Alert.objects.filter(customer=c)),
         sorted(Delivery.objects.filter(alert__customer=c).values_list("alert__kind", "recipient_kind", "channel")))
        for c in customers
    ]


def test_the_batch_evaluation_evaluates_each_customer_as_its_own_evaluation_does(enqueued):
    reseller = ResellerFactory(contact_email="ops@shop.example")
    batch, single = _scenario(reseller, "1"), _scenario(reseller, "2")
    now = timezone.now()
    with enqueued():
        customers_alerts_evaluate(customer_ids=[c.pk for c in batch], now=now)
        for customer in single:
            customer_alerts_evaluate(customer_id=customer.pk, now=now)
    outcome = _outcome(batch)
    assert outcome == _outcome(single)
    assert Alert.objects.filter(customer__in=batch, rearmed_at__isnull=False).count() == 1
    assert sum(len(alerts) for alerts, _ in outcome) >= 6 and sum(len(deliveries) for _, deliveries in outcome) >= 6


def test_the_batch_task_evaluates_customers_of_several_resellers(enqueued):
    first, second = ResellerFactory(), ResellerFactory()
    a = CustomerFactory(reseller=first, credit=Decimal("100.00"), used=Decimal("91.00"))
    b = CustomerFactory(reseller=second, credit=Decimal("100.00"), used=Decimal("76.00"))
    with enqueued():
        tasks.customers_evaluate([a.pk, b.pk, 999_999_999])
    assert sorted(Alert.objects.filter(covered=False).values_list("customer_id", "threshold")) == [(a.pk, 90), (b.pk, 75)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_over_overlapping_customers_add_every_charge_once():
    """Batches racing over overlapping customers, each listing them in another order, with charges
    every batch sends: no deadlock, used = the sum of the recorded charges for every customer."""
    reseller = ResellerFactory()
    customers = [CustomerFactory(reseller=reseller, credit=Decimal("1000.00")) for _ in range(6)]
    shared = [charge(c, f"shared-{c.uin}", "0.75") for c in customers[2:5]]
    results = []

    def ingest(n: int) -> None:
        order = customers[n % 6:] + customers[: n % 6]
        for b in range(3):
            rows = [charge(c, f"t{n}-b{b}-{c.uin}-{k}", f"{n + 1}.{k}5") for k in range(4) for c in order[:4]]
            results.append(usage_charges_ingest(reseller=reseller, rows=rows + shared))

    assert run_together([partial(ingest, n) for n in range(4)]) == []
    assert sum(r.created for r in results) == UsageCharge.objects.count() == 4 * 3 * 16 + 3
    assert sum(r.replayed for r in results) == 4 * 3 * 3 - 3
    for customer in customers:
        assert used(customer) == charged(customer)
    assert sum(used(c) for c in customers) == sum(
        (Decimal(f"{n + 1}.{k}5") * 4 * 3 for n in range(4) for k in range(4)), Decimal("0.75") * 3
    )


def batch_plan(reseller, rows: list[dict], explain: str = "EXPLAIN ") -> str:
    """PostgreSQL's plan of the batch statement (_BATCH_APPLY_PG) for these charges (with their customer_id)."""
    from django.db import connection

    from credits.services import _BATCH_APPLY_PG, _charges_json, burn_rate_window

    first, last = burn_rate_window(reseller)
    with connection.cursor() as cursor:
        cursor.execute(explain + _BATCH_APPLY_PG, {
            "reseller": reseller.pk, "now": timezone.now(), "zone": reseller.zone.key, "first": first, "last": last,
            "charges": _charges_json(rows),
        })
        return "\n".join(line for (line,) in cursor.fetchall())


@pytest.mark.postgres
def test_each_charge_looks_its_key_up_by_the_primary_key_whatever_the_statistics(shop):
    # Thousands of keys the planner has no statistics for (as during a large import): a NOT EXISTS
    # was planned as a hash of every key the reseller recorded, built again for every batch.
    reseller, (a, _, _) = shop
    usage_charges_ingest(reseller=reseller, rows=[charge(a, f"old-{n}", "0.01") for n in range(3000)])
    plan = batch_plan(reseller, [{**charge(a, f"new-{n}", "0.01"), "customer_id": a.pk} for n in range(1000)])
    assert "credits_usagechargekey_pkey" in plan, plan
    assert "Anti Join" not in plan and "Seq Scan on credits_usagechargekey" not in plan, plan
    assert "Bitmap Heap Scan on credits_usagechargekey" not in plan, plan


def test_text_fields_arrive_exactly_as_sent_whatever_characters_they_hold(shop):
    # The batch travels to PostgreSQL as one JSON document: quotes, backslashes, braces, commas,
    # other scripts, emoji and JSON's own escapes must all come out as they went in.
    reseller, (a, _, _) = shop
    odd = ['say "hi"', "back\\slash \\u0041", "{a,b}", "\u4e91\u670d\u52a1\u5668", "\U0001f600 x", "tab\there", "'quote'"]
    rows = [charge(a, f"odd-{n}-{text}", "1.01", product=text[:100], description=text, region=text[:64],
                   instance_id=text) for n, text in enumerate(odd)]
    usage_charges_ingest(reseller=reseller, rows=rows)
    for n, text in enumerate(odd):
        saved = UsageCharge.objects.get(external_id=f"odd-{n}-{text}")
        assert (saved.product, saved.description, saved.region, saved.instance_id, saved.amount) == (
            text, text, text, text, Decimal("1.01"))
    assert used(a) == Decimal("1.01") * len(odd)


@pytest.mark.postgres
def test_the_batch_reads_its_per_customer_sums_once(shop):
    # The balance UPDATE once joined the sums and an inlined CTE built on them: the planner, which
    # takes a CTE for one row, scanned the sums again for every customer (quadratic: 1.1 s for a
    # batch of 2,000 charges over 2,000 customers) and recounted a window twice.
    reseller, _ = shop
    customers = [CustomerFactory(reseller=reseller, credit=Decimal("10.00")) for _ in range(60)]
    rows = [{**charge(c, f"s-{n}", "0.01"), "customer_id": c.pk} for n, c in enumerate(customers)]
    plan = batch_plan(reseller, rows, explain="EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ")
    scans = [line for line in plan.splitlines() if "CTE Scan on" in line]
    assert scans and all(line.endswith("loops=1)") for line in scans), plan
    # The window's recount (each customer's first charge of the day here) is one subplan, run once a customer.
    recounts = [line for line in plan.splitlines() if "Index Scan using usage_daily_customer_day" in line]
    assert len(recounts) == 1 and recounts[0].endswith("loops=60)"), plan
