from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import DomainError, IdempotencyConflict, InvalidAmount, NotFound
from credits.models import UsageCharge
from credits.services import usage_charge_record
from customers.models import Customer
from tests.factories import CustomerFactory, ResellerFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db


def record(reseller, customer, **overrides):
    fields = {
        "reseller": reseller,
        "customer_uin": customer.uin,
        "amount": "12.34",
        "incurred_at": timezone.now() - timedelta(hours=1),
        "external_id": "bill-1",
        "product": "CVM",
        "description": "Instance hours",
    }
    fields.update(overrides)
    return usage_charge_record(**fields)


def test_records_charge_adds_to_used_and_enqueues_evaluation(enqueued):
    customer = CustomerFactory(credit=Decimal("100.00"))
    with enqueued() as sent:
        charge, created = record(customer.reseller, customer)
    assert created is True
    assert charge.amount == Decimal("12.34") and charge.source == "api" and charge.product == "CVM"
    customer.refresh_from_db()
    assert customer.used == Decimal("12.34")
    assert customer.available == Decimal("87.66")
    assert sent == [("notifications.tasks.customer_evaluate", (customer.pk,))]


def test_repeated_external_id_returns_first_charge_and_changes_nothing(enqueued):
    customer = CustomerFactory(credit=Decimal("100.00"))
    first, _ = record(customer.reseller, customer)
    with enqueued() as sent:
        again, created = record(customer.reseller, customer)
    assert created is False and again.pk == first.pk
    customer.refresh_from_db()
    assert customer.used == Decimal("12.34")
    assert UsageCharge.objects.count() == 1
    assert sent == []


def test_same_external_id_for_a_different_charge_is_refused():
    customer = CustomerFactory(credit=Decimal("100.00"))
    record(customer.reseller, customer)
    with pytest.raises(IdempotencyConflict):
        record(customer.reseller, customer, amount="99.00")
    customer.refresh_from_db()
    assert customer.used == Decimal("12.34")


def test_external_id_is_per_reseller():
    a = CustomerFactory()
    b = CustomerFactory()
    record(a.reseller, a)
    _, created = record(b.reseller, b)
    assert created is True
    assert UsageCharge.objects.count() == 2


@pytest.mark.parametrize("whose", ["unknown", "other reseller"])
def test_unknown_or_foreign_customer_is_refused_and_nothing_written(whose):
    reseller = ResellerFactory()
    other = CustomerFactory()
    uin = 999999999 if whose == "unknown" else other.uin
    with pytest.raises(NotFound) as error:
        usage_charge_record(reseller=reseller, customer_uin=uin, amount="1.00",
                            incurred_at=timezone.now(), external_id="x")
    assert error.value.code == "UnauthorizedOperation.UinNoAuth"
    assert UsageCharge.objects.count() == 0
    other.refresh_from_db()
    assert other.used == Decimal("0.00")


@pytest.mark.parametrize("amount", ["0", "-1.00", "1.001", "abc", 1.5, "1e3"])
def test_bad_amount_is_refused(amount):
    customer = CustomerFactory()
    with pytest.raises(InvalidAmount):
        record(customer.reseller, customer, amount=amount)
    assert UsageCharge.objects.count() == 0
    customer.refresh_from_db()
    assert customer.used == Decimal("0.00")


@pytest.mark.parametrize(
    "overrides",
    [
        {"external_id": "  "},
        {"external_id": "x" * 129},
        {"incurred_at": "yesterday"},
        {"incurred_at": "2026-11-26T08:00:00"},  # no time zone
        {"incurred_at": timezone.now() + timedelta(days=2)},  # beyond the one day ahead accepted
        {"product": "p" * 101},
        {"source": "telepathy"},
        {"customer_uin": "abc"},
    ],
)
def test_bad_fields_are_refused(overrides):
    customer = CustomerFactory()
    with pytest.raises(DomainError):
        record(customer.reseller, customer, **overrides)
    assert UsageCharge.objects.count() == 0


def test_iso_time_string_is_accepted():
    customer = CustomerFactory()
    charge, _ = record(customer.reseller, customer, incurred_at="2026-01-02T03:04:05+08:00")
    assert charge.incurred_at == datetime(2026, 1, 1, 19, 4, 5, tzinfo=UTC)


def test_database_refuses_non_positive_amount_and_duplicate_external_id():
    customer = CustomerFactory()
    base = {"reseller": customer.reseller, "customer": customer, "incurred_at": timezone.now()}
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageCharge.objects.create(amount=Decimal("0.00"), external_id="a", **base)
    UsageCharge.objects.create(amount=Decimal("1.00"), external_id="b", **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageCharge.objects.create(amount=Decimal("1.00"), external_id="b", **base)


def test_allocation_enqueues_evaluation_on_commit(funded_reseller, enqueued):
    from credits.services import credit_allocate

    customer = CustomerFactory(reseller=funded_reseller)
    with enqueued() as sent:
        credit_allocate(reseller=funded_reseller, customer=customer, amount="10.00")
    assert sent == [("notifications.tasks.customer_evaluate", (customer.pk,))]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_charges_never_lose_an_add():
    customer = CustomerFactory(credit=Decimal("1000.00"))

    def worker(n):
        for i in range(10):
            usage_charge_record(reseller=customer.reseller, customer_uin=customer.uin, amount="1.01",
                                incurred_at=timezone.now(), external_id=f"t{n}-{i}")
            # the same id from every thread: exactly one of them records it
            usage_charge_record(reseller=customer.reseller, customer_uin=customer.uin, amount="0.50",
                                incurred_at=timezone.now(), external_id=f"shared-{i}")

    assert run_together([partial(worker, n) for n in range(4)]) == []
    customer.refresh_from_db()
    assert UsageCharge.objects.count() == 50
    assert customer.used == Decimal("1.01") * 40 + Decimal("0.50") * 10
    assert Customer.objects.get(pk=customer.pk).used == sum(c.amount for c in UsageCharge.objects.all())


@pytest.mark.parametrize(
    "incurred_at",
    ["0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z", "2000-01-01T07:59:59+08:00", "9999-12-31T23:59:59-14:00"],
)
def test_a_time_outside_the_window_is_refused_and_its_retry_too(incurred_at):
    customer = CustomerFactory()
    for _ in range(2):
        with pytest.raises(DomainError) as error:
            record(customer.reseller, customer, incurred_at=incurred_at)
        assert error.value.code == "InvalidParameterValue.IncurredAt" and error.value.field == "incurred_at"
        assert "from 2000-01-01T00:00:00Z to one day from now" in error.value.message
    assert UsageCharge.objects.count() == 0


def test_the_window_runs_from_2000_to_one_day_ahead():
    customer = CustomerFactory()
    first, _ = record(customer.reseller, customer, incurred_at="2000-01-01T00:00:00Z", external_id="earliest")
    assert first.incurred_at == datetime(2000, 1, 1, tzinfo=UTC)
    record(customer.reseller, customer, incurred_at=timezone.now() + timedelta(hours=23), external_id="ahead")
    with pytest.raises(DomainError, match="outside the accepted window"):
        record(customer.reseller, customer, incurred_at=timezone.now() + timedelta(hours=25), external_id="too-far")
    assert UsageCharge.objects.count() == 2


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"external_id": "bill\x00-1"}, "external_id"),
        ({"product": "CVM\x00"}, "product"),
        ({"description": "\ud800"}, "description"),
        ({"customer_uin": "²"}, "customer_uin"),
        ({"customer_uin": "９"}, "customer_uin"),
        ({"customer_uin": "9" * 30}, "customer_uin"),
        ({"customer_uin": 2**63}, "customer_uin"),
    ],
)
def test_text_the_database_cannot_store_and_non_ascii_uins_are_refused(overrides, field):
    customer = CustomerFactory()
    with pytest.raises(DomainError) as error:
        record(customer.reseller, customer, **overrides)
    assert error.value.field == field
    assert UsageCharge.objects.count() == 0


def test_an_offset_beyond_what_postgresql_takes_is_stored_in_utc():
    # Python reads offsets up to ±23:59; PostgreSQL's timestamptz input refuses beyond ±15:59.
    customer = CustomerFactory()
    charge, _ = record(customer.reseller, customer, incurred_at="2026-01-01T20:00:00+22:58")
    assert charge.incurred_at == datetime(2025, 12, 31, 21, 2, tzinfo=UTC)
    assert UsageCharge.objects.get().incurred_at == charge.incurred_at
