from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from credits.models import AllocationRecord, CreditPool
from customers.models import Customer, Reseller

pytestmark = pytest.mark.django_db


def test_seed_demo_is_safe_to_run_twice(capsys):
    call_command("seed_demo")
    counts = (Reseller.objects.count(), Customer.objects.count(), AllocationRecord.objects.count())
    call_command("seed_demo")
    assert (Reseller.objects.count(), Customer.objects.count(), AllocationRecord.objects.count()) == counts
    demo = Reseller.objects.get(uin=100000000001)
    customers = Customer.objects.filter(reseller=demo)
    assert customers.count() == 200
    assert customers.filter(usage_band=75).exists()
    assert customers.filter(usage_band=90).exists()
    assert customers.filter(usage_band=100).exists()
    assert customers.filter(available__lt=0).exists()
    assert Customer.objects.exclude(reseller=demo).count() == 20
    assert "demo-password" in capsys.readouterr().out
    call_command("check_ledger")
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    # The sign-in throttle (django-axes) only lets a sign-in through with the request it came in.
    sign_in = RequestFactory().post("/login/")
    assert authenticate(sign_in, username="demo", password="demo-password").member.reseller == demo
    assert authenticate(sign_in, username="other", password="other-password").member.reseller.uin == 100000000002


def test_check_ledger_reports_a_mismatch(funded_reseller, capsys):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(reseller=funded_reseller)
    call_command("check_ledger")
    # A bypass of the service: credit without a record, and without taking it from the pool.
    Customer.objects.filter(pk=customer.pk).update(credit=Decimal("5.00"))
    with pytest.raises(CommandError, match="mismatch"):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert f"customer {customer.uin} credit vs sum of its records" in err
    assert "remaining + customers' credit" in err


def test_seed_scale_loads_a_conserved_ledger(capsys):
    call_command("seed_scale", customers=300, records=900, uin=900000000077, username="scale")
    reseller = Reseller.objects.get(uin=900000000077)
    assert Customer.objects.filter(reseller=reseller).count() == 300
    assert AllocationRecord.objects.filter(reseller=reseller).count() == 900
    call_command("check_ledger")
    pool = CreditPool.objects.get(reseller=reseller)
    last = AllocationRecord.objects.filter(reseller=reseller).order_by("-created_at", "-id").first()
    assert last.pool_remaining_after == pool.remaining


def test_seed_scale_loads_for_adjacent_resellers_do_not_collide():
    call_command("seed_scale", customers=1500, records=0, uin=900000000201, username="scale-a")
    call_command("seed_scale", customers=1500, records=0, uin=900000000202, username="scale-b")
    assert Customer.objects.filter(reseller__uin__in=[900000000201, 900000000202]).count() == 3000


def test_seed_scale_refuses_more_customers_than_a_uin_block():
    with pytest.raises(CommandError, match="1 to 1,000,000"):
        call_command("seed_scale", customers=1_000_001, uin=900000000203)
    assert not Reseller.objects.filter(uin=900000000203).exists()
