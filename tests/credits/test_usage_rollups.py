"""Daily usage rollups, burn rate and days to zero (issue 11, DESIGN §8): kept by the ingestion in
the same transaction as the charges, equal to the sum of the charges under any order of batches,
late charges and retries."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings, strategies as st

from core.errors import IdempotencyConflict, InvalidValue
from credits.models import UsageCharge, UsageDaily
from credits.services import (
    burn_rate_window,
    burn_rates_refresh,
    usage_charge_check,
    usage_charge_record,
    usage_charges_ingest,
)
from customers.models import CustomerBalance
from tests.factories import CustomerFactory, ResellerFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db


def charge(customer, external_id, amount="1.00", at=None, **extra):
    return usage_charge_check(customer_uin=customer.uin, amount=amount,
                              incurred_at=at or timezone.now() - timedelta(hours=1),
                              external_id=external_id, source="import", **extra)


def rollups(reseller) -> dict:
    return {(d.customer_id, d.day, d.product, d.region, d.pay_mode): (d.amount, d.charges)
            for d in UsageDaily.objects.filter(reseller=reseller)}


def charges_summed_in_sql(reseller) -> dict:
    """The rollups as PostgreSQL computes them from the raw charges, independently of the service."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.customer_id, (u.incurred_at AT TIME ZONE r.time_zone)::date, u.product, u.region, u.pay_mode,"
            " sum(u.amount), count(*) FROM credits_usagecharge u JOIN customers_reseller r ON r.id = u.reseller_id"
            " WHERE u.reseller_id = %s GROUP BY 1, 2, 3, 4, 5", [reseller.pk])
        return {tuple(row[:5]): (row[5], row[6]) for row in cursor.fetchall()}


def balance(customer) -> CustomerBalance:
    return CustomerBalance.objects.get(pk=customer.pk)


def test_charges_carry_region_pay_mode_and_instance_and_old_inputs_get_the_defaults():
    reseller = ResellerFactory()
    customer = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    usage_charges_ingest(reseller=reseller, rows=[
        charge(customer, "a", region="ap-singapore", pay_mode="prePay", instance_id="ins-1"),
        charge(customer, "b"),
    ])
    a, b = UsageCharge.objects.get(external_id="a"), UsageCharge.objects.get(external_id="b")
    assert (a.region, a.pay_mode, a.instance_id) == ("ap-singapore", "prePay", "ins-1")
    assert (b.region, b.pay_mode, b.instance_id) == ("", "postPay", "")


def test_a_bad_pay_mode_is_refused_naming_the_allowed_ones():
    with pytest.raises(InvalidValue) as refused:
        usage_charge_check(customer_uin=1, amount="1", incurred_at="2026-01-01T00:00:00Z", external_id="x",
                           pay_mode="monthly")
    assert "prePay, postPay" in refused.value.message
    assert refused.value.code == "InvalidParameterValue.PayMode"


def test_a_batch_adds_its_sums_to_the_day_in_the_resellers_zone_and_late_charges_to_their_own_day():
    reseller = ResellerFactory(time_zone="Asia/Shanghai")
    customer = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    # 17:30 UTC on the 9th is 01:30 on the 10th in UTC+8.
    late = datetime(2026, 10, 9, 17, 30, tzinfo=UTC)
    usage_charges_ingest(reseller=reseller, rows=[
        charge(customer, "1", "2.00", at=late, product="CVM"),
        charge(customer, "2", "3.50", at=late + timedelta(minutes=5), product="CVM"),
        charge(customer, "3", "1.00", at=late, product="COS", region="ap-hongkong"),
    ])
    usage_charges_ingest(reseller=reseller, rows=[charge(customer, "1", "2.00", at=late, product="CVM"),  # replay
                                                  charge(customer, "4", "0.25", at=late, product="CVM")])
    day = datetime(2026, 10, 10).date()
    assert rollups(reseller) == {
        (customer.pk, day, "CVM", "", "postPay"): (Decimal("5.75"), 3),
        (customer.pk, day, "COS", "ap-hongkong", "postPay"): (Decimal("1.00"), 1),
    }


def test_a_refused_batch_writes_no_rollup():
    reseller = ResellerFactory()
    customer = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    usage_charges_ingest(reseller=reseller, rows=[charge(customer, "1", "2.00")])
    before = rollups(reseller)
    with pytest.raises(IdempotencyConflict):
        usage_charges_ingest(reseller=reseller, rows=[charge(customer, "2", "5.00"), charge(customer, "1", "9.00")])
    assert rollups(reseller) == before
    assert balance(customer).burn_rate == Decimal("0.2857")  # 2.00 / 7, not (2.00 + 5.00) / 7


def assert_burn_rates_recounted(reseller, customers, now=None) -> None:
    """Each charged customer's burn_sum, burn_rate and burn_day are those a recount of its rollups in
    today's window gives (what burn_rates_set writes)."""
    first, last = burn_rate_window(reseller, now)
    for customer in customers:
        row = balance(customer)
        if row.burn_day is None:
            continue
        assert row.burn_day == last
        in_window = sum((amount for (owner, day, *_), (amount, _) in rollups(reseller).items()
                         if owner == customer.pk and first <= day <= last), Decimal("0"))
        assert (row.burn_sum, row.burn_rate) == (in_window, (in_window / 7).quantize(Decimal("0.0001"))), customer


def test_burn_sum_is_added_to_while_the_window_is_todays_and_recounted_after_the_day_turns(monkeypatch):
    """A batch adds its charges in the window to the sum the balance keeps while the window still
    ends today; the first batch after the day turned (in the reseller's zone) recounts the rollups,
    so days that left the window drop out, late charges and charges outside the window included."""
    from credits import services

    reseller = ResellerFactory(time_zone="Asia/Shanghai")
    customer = CustomerFactory(reseller=reseller, credit=Decimal("1000.00"))
    # Noon in the reseller's zone: "a" (6 days and an hour back) is then inside the window, whatever
    # the hour the test runs at (started in the first hour of a Shanghai day, "a" fell a day earlier).
    start = timezone.now().astimezone(reseller.zone).replace(hour=12, minute=0, second=0, microsecond=0)
    clock = {"now": start}
    monkeypatch.setattr(services.timezone, "now", lambda: clock["now"])

    def ingest(*rows):
        usage_charges_ingest(reseller=reseller, rows=list(rows))
        assert_burn_rates_recounted(reseller, [customer], now=clock["now"])

    ingest(charge(customer, "a", "7.00", at=start - timedelta(days=6, hours=1)),
           charge(customer, "b", "3.50", at=start - timedelta(minutes=5)))
    assert balance(customer).burn_day == burn_rate_window(reseller, start)[1]
    ingest(charge(customer, "c", "1.05", at=start - timedelta(days=2)),  # late, inside the window
           charge(customer, "d", "9.00", at=start - timedelta(days=12)))  # outside it
    assert balance(customer).burn_sum == Decimal("11.55")
    clock["now"] = start + timedelta(days=2)  # "a" (and "c"'s day, later) leave the window
    ingest(charge(customer, "e", "0.70", at=clock["now"] - timedelta(minutes=1)))
    assert balance(customer).burn_sum < Decimal("11.55") + Decimal("0.70")
    ingest(charge(customer, "f", "0.01", at=clock["now"] - timedelta(days=1)))
    clock["now"] = start + timedelta(days=20)  # nothing left in the window but the new charge
    ingest(charge(customer, "g", "2.00", at=clock["now"] - timedelta(hours=2)))
    assert (balance(customer).burn_sum, balance(customer).burn_rate) == (Decimal("2.00"), Decimal("0.2857"))


@pytest.mark.postgres
def test_a_batch_does_not_recount_a_window_that_ends_today():
    """The mechanism of PostgreSQL's batch statement (SQLite's path recounts every time): while
    burn_day is today, the batch adds to burn_sum and reads no rollup (a sum set by hand is carried
    on); once burn_day is another day it recounts."""
    reseller = ResellerFactory(time_zone="UTC")
    customer = CustomerFactory(reseller=reseller, credit=Decimal("1000.00"))
    usage_charges_ingest(reseller=reseller, rows=[charge(customer, "a", "7.00")])
    CustomerBalance.objects.filter(pk=customer.pk).update(burn_sum=Decimal("70.00"), burn_rate=Decimal("10.0000"))
    usage_charges_ingest(reseller=reseller, rows=[charge(customer, "b", "7.00")])
    assert (balance(customer).burn_sum, balance(customer).burn_rate) == (Decimal("77.00"), Decimal("11.0000"))
    CustomerBalance.objects.filter(pk=customer.pk).update(burn_day=timezone.now().date() - timedelta(days=1))
    usage_charges_ingest(reseller=reseller, rows=[charge(customer, "c", "7.00")])
    assert (balance(customer).burn_sum, balance(customer).burn_rate) == (Decimal("21.00"), Decimal("3.0000"))


def test_burn_rate_is_the_7_day_average_and_days_to_zero_follows_available():
    reseller = ResellerFactory(time_zone="UTC")
    customer = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    idle = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    now = timezone.now()
    usage_charges_ingest(reseller=reseller, rows=[
        charge(customer, "today", "7.00", at=now - timedelta(minutes=1)),
        charge(customer, "six-days-ago", "7.00", at=now - timedelta(days=6)),
        charge(customer, "eight-days-ago", "50.00", at=now - timedelta(days=8)),
    ])
    row = balance(customer)
    assert row.burn_rate == Decimal("2.0000")  # (7 + 7) / 7; the charge 8 days ago is outside
    assert row.days_to_zero == 18  # available 36.00 / 2.00 a day
    assert balance(idle).days_to_zero is None  # spends nothing: no run-out date
    usage_charges_ingest(reseller=reseller, rows=[charge(customer, "big", "40.00", at=now - timedelta(days=10))])
    assert balance(customer).days_to_zero == 0  # available -4.00


def test_the_refresh_drops_days_that_left_the_window():
    reseller = ResellerFactory(time_zone="UTC")
    customer = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount="14.00",
                        incurred_at=timezone.now() - timedelta(days=6), external_id="x")
    assert balance(customer).burn_rate == Decimal("2.0000")
    assert burn_rates_refresh(now=timezone.now() + timedelta(days=2)) == 1
    assert balance(customer).burn_rate == 0
    assert balance(customer).days_to_zero is None
    assert burn_rates_refresh(now=timezone.now() + timedelta(days=2)) == 0  # nothing left to update


ZONES = ("Asia/Shanghai", "America/Los_Angeles", "UTC", "Asia/Kolkata")
a_charge = st.tuples(
    st.integers(0, 2),  # customer
    st.integers(0, 11),  # external id (a small set, so that repeats and conflicts happen)
    st.sampled_from(["0.01", "1.10", "2.50", "9.99"]),
    st.integers(0, 60 * 24 * 40),  # minutes ago: late charges up to 40 days back, across midnights
    st.sampled_from(["CVM", "COS"]),
    st.sampled_from(["", "ap-singapore"]),
    st.sampled_from(["prePay", "postPay"]),
)
batches = st.lists(st.lists(a_charge, min_size=1, max_size=6), min_size=1, max_size=8)


@pytest.mark.postgres
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=st.sampled_from(ZONES), sent=batches, retries=st.lists(st.integers(0, 7), max_size=4))
def test_rollups_equal_the_sum_of_the_charges_under_any_order_late_charges_and_retries(zone, sent, retries):
    reseller = ResellerFactory(time_zone=zone)
    customers = [CustomerFactory(reseller=reseller, credit=Decimal("100.00")) for _ in range(3)]
    now = timezone.now()

    def rows(batch):
        return [charge(customers[c], f"e{e}", amount, at=now - timedelta(minutes=ago), product=product,
                       region=region, pay_mode=pay_mode)
                for c, e, amount, ago, product, region, pay_mode in batch]

    # Retries re-send an earlier batch later on, interleaved with the others.
    order = list(sent) + [sent[r % len(sent)] for r in retries]
    for batch in order:
        try:
            usage_charges_ingest(reseller=reseller, rows=rows(batch))
        except IdempotencyConflict:
            pass  # an external id reused for another charge: the whole batch is refused
    assert rollups(reseller) == charges_summed_in_sql(reseller)
    assert_burn_rates_recounted(reseller, customers)
    for customer in customers:
        recorded = sum(UsageCharge.objects.filter(customer=customer).values_list("amount", flat=True), Decimal("0"))
        assert balance(customer).used == recorded
        assert sum((v[0] for k, v in rollups(reseller).items() if k[0] == customer.pk), Decimal("0")) == recorded


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_keep_the_rollups_equal_to_the_charges():
    """Threads sending overlapping batches (shared charges, the same days and products) at once."""
    reseller = ResellerFactory(time_zone="Asia/Shanghai")
    customers = [CustomerFactory(reseller=reseller, credit=Decimal("1000.00")) for _ in range(4)]
    now = timezone.now()
    shared = [charge(c, f"shared-{c.uin}", "0.75", at=now - timedelta(days=3)) for c in customers]

    def ingest(n: int) -> None:
        for b in range(3):
            rows = [charge(c, f"t{n}-b{b}-{c.uin}-{k}", f"{n + 1}.{k}5", at=now - timedelta(hours=k * 20),
                           product=("CVM", "COS")[k % 2]) for k in range(3) for c in customers[n % 4:] + customers[:n % 4]]
            usage_charges_ingest(reseller=reseller, rows=rows + shared)

    assert run_together([partial(ingest, n) for n in range(4)]) == []
    assert rollups(reseller) == charges_summed_in_sql(reseller)
    assert sum(v[1] for v in rollups(reseller).values()) == UsageCharge.objects.filter(reseller=reseller).count()


def test_beat_refreshes_burn_rates_every_hour_through_the_task():
    from credits import tasks
    from partnercenter.schedule import BEAT_SCHEDULE

    assert BEAT_SCHEDULE["burn-rates-refresh"] == {"task": "credits.tasks.burn_rates_refresh", "schedule": 3600.0}
    reseller = ResellerFactory(time_zone="UTC")
    customer = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount="7.00",
                        incurred_at=timezone.now() - timedelta(days=6), external_id="old")
    # As if stale: the window counted yesterday, with more spent in it then.
    CustomerBalance.objects.filter(pk=customer.pk).update(
        burn_rate=Decimal("5"), burn_sum=Decimal("35.00"), burn_day=timezone.now().date() - timedelta(days=1))
    assert tasks.burn_rates_refresh() == 1
    assert balance(customer).burn_rate == Decimal("1.0000")


def test_a_batch_sets_the_burn_rate_from_the_rollups_already_in_the_window_and_its_own_charges():
    # On PostgreSQL one statement adds the batch to the rollups and sets the burn rate: the batch's
    # own charges in the window are added to the rollups it found, the same sum a recount gives.
    reseller = ResellerFactory(time_zone="Asia/Shanghai")
    customer = CustomerFactory(reseller=reseller, credit=Decimal("1000.00"))
    other = CustomerFactory(reseller=reseller, credit=Decimal("1000.00"))
    now = timezone.now()
    usage_charges_ingest(reseller=reseller, rows=[
        charge(customer, "a", "3.00", at=now - timedelta(days=2)),
        charge(customer, "b", "50.00", at=now - timedelta(days=9)),
    ])
    usage_charges_ingest(reseller=reseller, rows=[
        charge(customer, "a", "3.00", at=now - timedelta(days=2)),  # a replay: not counted again
        charge(customer, "c", "4.01", at=now - timedelta(days=2)),  # into the same rollup row as "a"
        charge(customer, "d", "0.02", at=now - timedelta(minutes=5)),
        charge(customer, "e", "9.00", at=now - timedelta(days=8)),  # outside the window
        charge(other, "f", "0.07", at=now - timedelta(days=1)),
    ])
    assert balance(customer).burn_rate == Decimal("1.0043")  # (3.00 + 4.01 + 0.02) / 7 = 1.004285...
    assert balance(other).burn_rate == Decimal("0.0100")
    assert balance(customer).used == Decimal("66.03")
    stored = {c.pk: balance(c).burn_rate for c in (customer, other)}
    burn_rates_refresh()  # a recount from the rollups alone gives the same figures
    assert {c.pk: balance(c).burn_rate for c in (customer, other)} == stored


@pytest.mark.postgres
def test_the_rollup_key_leads_with_the_day_and_a_customer_s_days_have_their_own_index(db):
    """Migration credits 0012: a batch's upserts look up one recent part of the key's index, and a
    customer's usage page and burn-rate window read usage_daily_customer_day."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'credits_usagedaily'")
        indexes = dict(cursor.fetchall())
    assert indexes["usage_daily_key"].endswith("(day, customer_id, product, region, pay_mode)")
    assert indexes["usage_daily_customer_day"].endswith("(customer_id, day)")


@pytest.mark.postgres
def test_a_batch_onto_a_rollup_already_there_updates_it_in_place_on_its_page():
    """Migration credits 0014: the rollups' pages keep 15 % free, and the upsert changes only
    columns no index holds, so adding a later batch to a row is a HOT update (no index entry)."""
    reseller = ResellerFactory()
    customer = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    at = timezone.now() - timedelta(hours=2)
    usage_charges_ingest(reseller=reseller, rows=[charge(customer, "first", at=at, product="CVM")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'credits_usagedaily'::regclass")
        assert cursor.fetchone()[0] == ["fillfactor=85"]
        counts = ("SELECT pg_stat_get_xact_tuples_updated('credits_usagedaily'::regclass),"
                  " pg_stat_get_xact_tuples_hot_updated('credits_usagedaily'::regclass)")
        cursor.execute(counts)
        updated, hot = cursor.fetchone()
        usage_charges_ingest(reseller=reseller, rows=[charge(customer, "second", "2.50", at=at, product="CVM")])
        cursor.execute(counts)
        assert cursor.fetchone() == (updated + 1, hot + 1)
    assert UsageDaily.objects.get(customer=customer).amount == Decimal("3.50")


def test_rollups_keep_their_customer_without_database_constraints():
    """The rollups' customer and reseller are checked by their charges' constraints (the one
    statement writes both), not by constraints of their own (credits migration 0013); Django's
    PROTECT still refuses to delete a customer that has rollups, and names them."""
    from django.db.models import ProtectedError

    reseller = ResellerFactory()
    customer = CustomerFactory(reseller=reseller, credit=Decimal("100.00"))
    usage_charges_ingest(reseller=reseller, rows=[charge(customer, "kept")])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = 'credits_usagedaily'::regclass"
                           " AND contype = 'f'")
            assert cursor.fetchone()[0] == 0
    with pytest.raises(ProtectedError) as refused:
        customer.delete()
    assert any(isinstance(row, UsageDaily) for row in refused.value.protected_objects)
    assert UsageDaily.objects.get(customer=customer).amount == Decimal("1.00")
