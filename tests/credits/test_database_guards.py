"""The database is the last line: a bypass of the services is refused by PostgreSQL itself."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from credits.models import AllocationRecord, CreditPool
from credits.services import credit_allocate
from customers.models import Customer, CustomerBalance
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def record(funded_reseller):
    customer = CustomerFactory(reseller=funded_reseller)
    return credit_allocate(reseller=funded_reseller, customer=customer, amount="100")


def test_pool_cannot_go_negative_by_update(funded_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditPool.objects.filter(reseller=funded_reseller).update(remaining=F("remaining") - Decimal("10000.01"))
    assert CreditPool.objects.get(reseller=funded_reseller).remaining == Decimal("10000.00")


def test_pool_remaining_cannot_exceed_total(funded_reseller):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditPool.objects.filter(reseller=funded_reseller).update(remaining=F("total") + 1)


@pytest.mark.parametrize("field", ["credit", "used"])
def test_customer_credit_and_used_cannot_go_negative(funded_reseller, field):
    customer = CustomerFactory(reseller=funded_reseller)
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerBalance.objects.filter(pk=customer.pk).update(**{field: Decimal("-0.01")})


def test_record_update_is_refused_by_trigger(record):
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        AllocationRecord.objects.filter(pk=record.pk).update(remark="tampered")
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE credits_allocationrecord SET amount = 1 WHERE id = %s", [record.pk])
    assert AllocationRecord.objects.get(pk=record.pk).remark == ""


def test_record_delete_is_refused_by_trigger(record):
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        AllocationRecord.objects.filter(pk=record.pk).delete()
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM credits_allocationrecord WHERE id = %s", [record.pk])
    assert AllocationRecord.objects.filter(pk=record.pk).exists()


def test_zero_amount_record_is_refused(record):
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationRecord.objects.create(
            reseller_id=record.reseller_id, customer_id=record.customer_id, amount=0, credit_after=100,
            available_after=100, pool_remaining_after=1, operator_name="x", source="system")


def test_duplicate_idempotency_key_is_refused_by_unique_index(funded_reseller):
    customer = CustomerFactory(reseller=funded_reseller)
    first = credit_allocate(reseller=funded_reseller, customer=customer, amount="1", idempotency_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationRecord.objects.create(
            reseller_id=first.reseller_id, customer_id=customer.pk, amount=1, credit_after=2,
            available_after=2, pool_remaining_after=1, operator_name="x", source="system", idempotency_key="k")


@pytest.mark.parametrize("change", [{"name": ""}, {"uin": 0}])
def test_customer_name_and_uin_are_backed_by_checks(funded_reseller, change):
    customer = CustomerFactory(reseller=funded_reseller)
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(**change)


def test_repayment_update_and_delete_are_refused_by_trigger(record):
    from credits.models import Repayment
    from credits.services import repayment_confirm

    CustomerBalance.objects.filter(pk=record.customer_id).update(used=Decimal("20.00"))
    repayment = repayment_confirm(reseller=record.reseller, customer=record.customer, amount="5.00", actor=None,
                                  idempotency_key="guard")
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        Repayment.objects.filter(pk=repayment.pk).update(amount=Decimal("50.00"))
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        Repayment.objects.filter(pk=repayment.pk).delete()
    assert Repayment.objects.get(pk=repayment.pk).amount == Decimal("5.00")


def test_used_cannot_go_negative_through_a_bypassing_repayment_update(funded_reseller):
    customer = CustomerFactory(reseller=funded_reseller)
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerBalance.objects.filter(pk=customer.pk).update(used=F("used") - Decimal("1.01"))


@pytest.mark.parametrize("values", [{"uin": 0}, {"uin": -1}, {"name": ""}], ids=["uin-0", "uin-negative", "no-name"])
def test_a_reseller_bypassing_reseller_create_is_refused(values):
    from customers.models import Reseller

    fields = {"name": "Harbor Cloud", "uin": 500000000777, **values}
    with pytest.raises(IntegrityError), transaction.atomic():
        Reseller.objects.create(**fields)
    assert not Reseller.objects.filter(name="Harbor Cloud").exists()
