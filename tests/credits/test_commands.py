from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from credits.models import AllocationRecord, CreditPool
from customers.models import Customer, CustomerBalance, Reseller, StatusEvent

pytestmark = pytest.mark.django_db


def test_seed_demo_is_safe_to_run_twice(capsys):
    call_command("seed_demo")
    counts = (Reseller.objects.count(), Customer.objects.count(), AllocationRecord.objects.count())
    call_command("seed_demo")
    assert (Reseller.objects.count(), Customer.objects.count(), AllocationRecord.objects.count()) == counts
    demo = Reseller.objects.get(uin=100000000001)
    customers = Customer.objects.filter(reseller=demo)
    # 200 seeded customers and the portal's demo customer, bound through onboarding.
    assert customers.count() == 201
    assert customers.filter(balance__usage_band=75).exists()
    assert customers.filter(balance__usage_band=90).exists()
    assert customers.filter(balance__usage_band=100).exists()
    # Every account status, with its events (DESIGN §4).
    statuses = set(CustomerBalance.objects.filter(reseller=demo).values_list("status", flat=True))
    assert statuses == {"normal", "overdue", "frozen", "suspended", "deleted"}
    assert customers.filter(non_stop=True).count() == 1
    assert set(StatusEvent.objects.filter(reseller=demo).values_list("kind", flat=True)) >= {
        "overdue", "frozen", "suspended", "deletion_7d", "deleted"}
    assert customers.filter(balance__available__lt=0).exists()
    assert Customer.objects.exclude(reseller=demo).count() == 20
    out = capsys.readouterr().out
    assert "demo-password" in out
    from django.contrib.auth import get_user_model
    from django.test import Client

    from customers.models import Application, Invitation
    assert Application.objects.filter(reseller=demo, status="pending").count() == 1
    assert [i.status for i in Invitation.objects.filter(reseller=demo, used_at__isnull=True)] == ["unused"]
    assert "customer@demo-client.example" in out and "portal-demo-2026" in out and "/portal/register/" in out
    portal = Client()
    assert portal.post("/portal/login/", {"username": "customer@demo-client.example",
                                          "password": "portal-demo-2026"}).status_code == 302
    assert "780.00" in portal.get("/portal/").content.decode()
    assert get_user_model().objects.filter(username="customer@demo-client.example").count() == 1
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
    CustomerBalance.objects.filter(pk=customer.pk).update(credit=Decimal("5.00"))
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


# Each command the README names, run the way a user runs it: `python manage.py ...` in a
# subprocess, which runs Django's system checks first (call_command skips them).


def test_import_usage_runs_from_manage_py(manage_py, tmp_path):
    from credits.models import UsageCharge
    from tests.factories import CustomerFactory

    customer = CustomerFactory(uin=700000000501)
    path = tmp_path / "usage.csv"
    path.write_text(
        "customer_uin,amount,incurred_at,external_id,product,description\n"
        "700000000501,10.50,2026-11-25T10:00:00+08:00,m-1,CVM,hours\n"
    )
    result = manage_py("import_usage", str(path))
    assert result.returncode == 0, result.stderr
    assert "Imported 1 usage charge(s); 0 already imported." in result.stdout
    assert UsageCharge.objects.get().external_id == "m-1"
    assert Customer.objects.get(pk=customer.pk).used == Decimal("10.50")

    path.write_text("customer_uin,amount,incurred_at,external_id\n700000000501,-1,2026-11-25T10:00:00Z,m-2\n")
    result = manage_py("import_usage", str(path))
    assert result.returncode == 1
    assert "line 2: The amount must be positive." in result.stderr
    assert "1 invalid row(s); nothing imported" in result.stderr
    assert "Traceback" not in result.stderr
    assert UsageCharge.objects.count() == 1


def test_check_ledger_runs_from_manage_py(manage_py, funded_reseller):
    from credits.services import credit_allocate
    from tests.factories import CustomerFactory

    customer = CustomerFactory(reseller=funded_reseller)
    credit_allocate(reseller=funded_reseller, customer=customer, amount="25.00")
    result = manage_py("check_ledger")
    assert result.returncode == 0, result.stderr
    assert "Ledger is consistent" in result.stdout

    CustomerBalance.objects.filter(pk=customer.pk).update(credit=Decimal("5.00"))
    result = manage_py("check_ledger")
    assert result.returncode == 1
    assert f"customer {customer.uin} credit vs sum of its records: expected 25.00, found 5.00" in result.stderr
    assert "2 ledger mismatch(es) found" in result.stderr


def test_seed_demo_runs_from_manage_py(manage_py):
    result = manage_py("seed_demo")
    assert result.returncode == 0, result.stderr
    assert "Demo login: user 'demo', password 'demo-password'" in result.stdout
    assert Customer.objects.filter(reseller__uin=100000000001).count() == 201
    assert "Customer portal (/portal/login/): user 'customer@demo-client.example'" in result.stdout
    assert Customer.objects.filter(reseller__uin=100000000002).count() == 20
    result = manage_py("seed_demo")
    assert result.returncode == 0, result.stderr
    assert "already loaded; nothing to do" in result.stdout
    assert Customer.objects.count() == 221


def test_seed_scale_runs_from_manage_py(manage_py):
    result = manage_py("seed_scale", "--customers", "40", "--records", "120", "--uin", "900000000301", "--username", "cli")
    assert result.returncode == 0, result.stderr
    assert "Loaded reseller 900000000301 (login cli / cli-password): 40 customers, 120 records" in result.stdout
    assert AllocationRecord.objects.filter(reseller__uin=900000000301).count() == 120
    assert manage_py("check_ledger").returncode == 0

    result = manage_py("seed_scale", "--customers", "0", "--uin", "900000000302")
    assert result.returncode == 1 and "--customers must be 1 to 1,000,000" in result.stderr
    assert not Reseller.objects.filter(uin=900000000302).exists()


def test_simulate_usage_runs_from_manage_py(manage_py, funded_reseller):
    from credits.models import UsageCharge
    from credits.services import credit_allocate
    from tests.factories import CustomerFactory

    for _ in range(3):
        credit_allocate(reseller=funded_reseller, customer=CustomerFactory(reseller=funded_reseller), amount="100.00")
    result = manage_py("simulate_usage", "--reseller", str(funded_reseller.uin), "--charges", "2")
    assert result.returncode == 0, result.stderr
    recorded = UsageCharge.objects.filter(reseller=funded_reseller, source="simulator").count()
    assert recorded >= 1
    assert f"Recorded {recorded} demo usage charge(s) for {funded_reseller.name}." in result.stdout

    result = manage_py("simulate_usage", "--reseller", "999999999999")
    assert result.returncode == 1 and "No reseller with UIN 999999999999" in result.stderr
