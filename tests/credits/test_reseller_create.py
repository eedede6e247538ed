"""reseller_create: a reseller comes with its customer-credit pool, empty, in one write."""

from decimal import Decimal

import pytest
from django.conf import settings

from credits.models import CreditPool
from credits.services import credit_allocate, pool_grant, reseller_create
from customers.models import Reseller
from customers.services import customer_create

pytestmark = pytest.mark.django_db


def test_a_new_reseller_has_an_empty_pool():
    reseller = reseller_create(name="Harbor Cloud", uin=500000000777, contact_email="ops@harbor.example",
                               contact_phone="+6580007777")
    reseller = Reseller.objects.get(pk=reseller.pk)
    assert (reseller.name, reseller.uin, reseller.contact_email, reseller.contact_phone) == (
        "Harbor Cloud", 500000000777, "ops@harbor.example", "+6580007777")
    assert reseller.time_zone == settings.DEFAULT_RESELLER_TIME_ZONE
    pool = CreditPool.objects.get(reseller=reseller)
    assert (pool.total, pool.remaining, pool.allocated) == (0, 0, 0)


def test_other_reseller_fields_are_passed_on():
    reseller = reseller_create(name="Night Owl", uin=500000000778, time_zone="UTC", customer_alerts_enabled=False)
    reseller = Reseller.objects.get(pk=reseller.pk)
    assert (reseller.time_zone, reseller.customer_alerts_enabled) == ("UTC", False)


def test_the_new_resellers_pool_takes_grants_and_allocations():
    reseller = reseller_create(name="Harbor Cloud", uin=500000000777)
    pool_grant(reseller=reseller, amount="300.00")
    customer = customer_create(reseller=reseller, uin=700000000777, name="First Customer")
    credit_allocate(reseller=reseller, customer=customer, amount="120.00")
    pool = CreditPool.objects.get(reseller=reseller)
    assert (pool.total, pool.remaining, pool.allocated) == (Decimal("300.00"), Decimal("180.00"), Decimal("120.00"))
    assert CreditPool.objects.filter(reseller=reseller).count() == 1


@pytest.mark.parametrize("uin", [0, -5, "abc", "１２３", 2**63, None])
def test_a_uin_outside_the_one_uin_rule_is_refused_and_nothing_is_written(uin):
    from core.errors import InvalidValue

    with pytest.raises(InvalidValue) as refused:
        reseller_create(name="Harbor Cloud", uin=uin)
    assert refused.value.field == "uin" and "positive integer of digits 0-9" in str(refused.value)
    assert not Reseller.objects.exists() and not CreditPool.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "Harbor\x00Cloud"])
def test_a_reseller_without_a_storable_name_is_refused(name):
    from core.errors import InvalidValue

    with pytest.raises(InvalidValue) as refused:
        reseller_create(name=name, uin=500000000777)
    assert refused.value.field == "name"
    assert not Reseller.objects.exists() and not CreditPool.objects.exists()
