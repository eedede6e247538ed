"""Status transitions under real concurrency (PostgreSQL, one connection per thread): the change
that crosses zero is the only one that sees both sides, so racing changes make one event each."""

from decimal import Decimal

import pytest
from django.utils import timezone

from credits.services import credit_allocate, pool_grant, usage_charge_record
from customers.models import CustomerBalance, StatusEvent
from notifications.models import Alert
from tests.factories import CustomerFactory, ResellerFactory
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _charge(reseller, customer, amount, key):
    return lambda: usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount=amount,
                                       incurred_at=timezone.now(), external_id=key)


def test_two_concurrent_charges_crossing_zero_make_one_overdue_event():
    reseller = ResellerFactory()
    pool_grant(reseller=reseller, amount="1000.00")
    customers = [CustomerFactory(reseller=reseller) for _ in range(5)]
    for customer in customers:
        credit_allocate(reseller=reseller, customer=customer, amount="10.00", source="system")
    # Each charge alone takes the customer below zero; both together, only one of them does.
    targets = []
    for n, customer in enumerate(customers):
        targets += [_charge(reseller, customer, "15.00", f"a{n}"), _charge(reseller, customer, "15.00", f"b{n}")]
    assert run_together(targets) == []
    for customer in customers:
        balance = CustomerBalance.objects.get(pk=customer.pk)
        assert (balance.available, balance.status) == (Decimal("-20.00"), "overdue")
        events = StatusEvent.objects.filter(customer=customer)
        assert list(events.values_list("kind", flat=True)) == ["overdue"]
        assert Alert.objects.filter(kind="status", customer=customer).count() == 1


def test_racing_allocations_and_charges_alternate_overdue_and_resumed():
    reseller = ResellerFactory()
    pool_grant(reseller=reseller, amount="1000.00")
    customer = CustomerFactory(reseller=reseller)
    credit_allocate(reseller=reseller, customer=customer, amount="5.00", source="system")
    targets = []
    for n in range(6):
        targets.append(_charge(reseller, customer, "10.00", f"c{n}"))
        targets.append(lambda: credit_allocate(reseller=reseller, customer=customer.pk, amount="10.00",
                                               source="system"))
    assert run_together(targets) == []
    kinds = list(StatusEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True))
    # Every event flips the state: overdue and resumed alternate, starting with overdue, and the last
    # one says where the balance ended (5.00 available: not overdue).
    assert all(a != b for a, b in zip(kinds, kinds[1:]))
    assert not kinds or (kinds[0] == "overdue" and kinds[-1] == "resumed")
    assert CustomerBalance.objects.get(pk=customer.pk).available == Decimal("5.00")
    assert Alert.objects.filter(kind="status").count() == len(kinds)


def test_sweeps_racing_a_charge_record_one_event():
    from notifications.services.status import overdue_sweep

    reseller = ResellerFactory()
    pool_grant(reseller=reseller, amount="1000.00")
    customers = [CustomerFactory(reseller=reseller) for _ in range(4)]
    for customer in customers:
        credit_allocate(reseller=reseller, customer=customer, amount="10.00", source="system")
    # Two customers drift below zero outside the services; the others cross it through a charge
    # while sweeps run.
    CustomerBalance.objects.filter(pk__in=[c.pk for c in customers[:2]]).update(used=Decimal("15.00"))
    targets = [overdue_sweep, overdue_sweep, overdue_sweep]
    targets += [_charge(reseller, customer, "15.00", f"s{n}") for n, customer in enumerate(customers[2:])]
    assert run_together(targets) == []
    for customer in customers:
        assert list(StatusEvent.objects.filter(customer=customer).values_list("kind", flat=True)) == ["overdue"]
    assert overdue_sweep() == 0
