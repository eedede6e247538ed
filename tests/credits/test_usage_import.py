from decimal import Decimal
from functools import partial
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from credits.models import UsageCharge
from credits.services import usage_charge_check, usage_charges_ingest
from customers.models import Customer, CustomerBalance
from tests.factories import CustomerFactory, ResellerFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db
HEADER = "customer_uin,amount,incurred_at,external_id,product,description\n"


@pytest.fixture
def customers():
    reseller = ResellerFactory(uin=100000000777)
    a = CustomerFactory(reseller=reseller, uin=700000000001, credit=Decimal("100.00"))
    b = CustomerFactory(reseller=reseller, uin=700000000002, credit=Decimal("100.00"))
    stranger = CustomerFactory(uin=700000000099)
    return reseller, a, b, stranger


def write(tmp_path, body):
    path = tmp_path / "usage.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def run(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_usage", path, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


GOOD = (
    "700000000001,10.50,2026-11-25T10:00:00+08:00,b-1,CVM,hours\n"
    "700000000002,80.00,2026-11-25T11:00:00Z,b-2,COS,\n"
    "700000000001,5.00,2026-11-25T12:00:00+00:00,b-3,,\n"
)


def test_imports_every_row_and_a_rerun_imports_nothing_twice(tmp_path, customers):
    _, a, b, _ = customers
    path = write(tmp_path, GOOD)
    out, _ = run(path)
    assert "Imported 3 usage charge(s); 0 already imported" in out
    out, _ = run(path)
    assert "Imported 0 usage charge(s); 3 already imported" in out
    assert UsageCharge.objects.count() == 3
    assert Customer.objects.get(pk=a.pk).used == Decimal("15.50")
    assert Customer.objects.get(pk=b.pk).used == Decimal("80.00")
    assert set(UsageCharge.objects.values_list("source", flat=True)) == {"import"}


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(tmp_path, customers):
    path = write(tmp_path, GOOD + (
        "700000000001,-3.00,2026-11-25T12:00:00Z,b-4,,\n"          # line 5
        "700000000099,1.00,2026-11-25T12:00:00Z,b-5,,\n"           # line 6: another reseller's customer
        "700000000002,1.234,2026-11-25T12:00:00Z,b-6,,\n"          # line 7
        "700000000002,1.00,not-a-time,b-7,,\n"                     # line 8
        "700000000002,2.00,2026-11-25T12:00:00Z,b-1,,\n"           # line 9: b-1 again, different charge
    ))
    with pytest.raises(CommandError, match="5 invalid row"):
        run(path, "--reseller", "100000000777")
    assert UsageCharge.objects.count() == 0
    assert set(Customer.objects.values_list("balance__used", flat=True)) == {Decimal("0.00")}


def test_error_lines_name_the_problem(tmp_path, customers):
    path = write(tmp_path, GOOD + "700000000001,-3.00,2026-11-25T12:00:00Z,b-4,,\n700000000099,1.00,2026-11-25T12:00:00Z,b-5,,\n")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_usage", path, "--reseller", "100000000777", stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("line 5: The amount must be positive")
    assert lines[1].startswith("line 6: customer 700000000099 does not exist")


def test_skip_invalid_imports_the_good_rows(tmp_path, customers):
    path = write(tmp_path, GOOD + "700000000001,0,2026-11-25T12:00:00Z,b-4,,\n")
    out, err = run(path, "--skip-invalid")
    assert "Imported 3 usage charge(s)" in out and "skipped 1 invalid row(s)" in out
    assert "line 5:" in err
    assert UsageCharge.objects.count() == 3


def test_the_batch_customers_are_evaluated_by_one_task_after_commit(tmp_path, customers, enqueued):
    _, a, b, _ = customers
    path = write(tmp_path, GOOD)
    with enqueued() as sent:
        call_command("import_usage", path, stdout=StringIO())
    assert sent == [("notifications.tasks.customers_evaluate", (sorted([a.pk, b.pk]),))]


@pytest.mark.parametrize(
    "content, message",
    [("", "empty"), ("customer_uin,amount\n", "lacks column"), ("customer_uin,amount,incurred_at,external_id,colour\n", "unknown column")],
)
def test_bad_header_is_refused(tmp_path, customers, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        run(str(path))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nope.csv"))


def test_simulate_usage_pushes_a_customer_past_90(customers):
    reseller, a, b, _ = customers
    CustomerBalance.objects.filter(pk=a.pk).update(used=Decimal("80.00"))
    out = StringIO()
    call_command("simulate_usage", "--reseller", str(reseller.uin), "--charges", "3", stdout=out)
    a.refresh_from_db()
    assert a.usage_band >= 90
    assert UsageCharge.objects.filter(source="simulator").count() == 4
    assert Customer.objects.get(pk=a.pk).used + Customer.objects.get(pk=b.pk).used == sum(
        UsageCharge.objects.values_list("amount", flat=True), Decimal("80.00"))


def test_seed_demo_records_usage_as_charges_and_runs_twice():
    from credits.selectors import ledger_mismatches

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    demo = Customer.objects.filter(reseller__uin=100000000001)
    assert demo.count() == 201  # with the portal's demo customer
    for customer in demo.filter(balance__used__gt=0)[:50]:
        assert customer.used == sum(customer.usage_charges.values_list("amount", flat=True))
    bands = set(demo.values_list("balance__usage_band", flat=True))
    assert {0, 75, 90, 100} <= bands
    assert demo.filter(balance__available__lt=0).exists()
    assert ledger_mismatches() == []
    # 90 days of history by product, region and pay mode, in the rollups, with burn rates.
    from credits.models import UsageDaily

    spender = demo.filter(balance__used__gt=0).first()
    days = UsageDaily.objects.filter(customer=spender).values_list("day", flat=True).distinct()
    assert 85 <= len(days) <= 91 and (max(days) - min(days)).days >= 85
    assert sum(UsageDaily.objects.filter(customer=spender).values_list("amount", flat=True)) == spender.used
    assert UsageDaily.objects.filter(reseller__uin=100000000001).values("pay_mode").distinct().count() == 2
    assert UsageDaily.objects.filter(reseller__uin=100000000001).values("region").distinct().count() > 1
    assert demo.filter(balance__burn_rate__gt=0).count() > 100


@pytest.mark.parametrize(
    "row, message",
    [
        ("700000000001," + "9" * 30 + ",2026-11-25T12:00:00Z,h-1,,", "must not exceed"),
        ("700000000001,1e30,2026-11-25T12:00:00Z,h-1,,", "exponents are not accepted"),
        ("700000000001,1.00,0001-01-01T00:00:00+14:00,h-1,,", "outside the accepted window"),
        ("700000000001,1.00,2026-11-25T12:00:00Z,h\x00-1,,", "NUL character"),
        ("700000000001,1.00,2026-11-25T12:00:00Z,h-1,CVM\x00,", "NUL character"),
        ("７００００００００００１,1.00,2026-11-25T12:00:00Z,h-1,,", "is not a UIN"),
        ("²,1.00,2026-11-25T12:00:00Z,h-1,,", "is not a UIN"),
    ],
)
def test_a_hostile_row_is_reported_by_line_and_nothing_is_imported(tmp_path, customers, row, message):
    path = write(tmp_path, GOOD + row + "\n")
    err = StringIO()
    with pytest.raises(CommandError, match="1 invalid row"):
        call_command("import_usage", path, stderr=err)
    assert err.getvalue().startswith("line 5: ") and message in err.getvalue()
    assert UsageCharge.objects.count() == 0
    assert set(Customer.objects.values_list("balance__used", flat=True)) == {Decimal("0.00")}


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path, customers):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "700000000001,1.00,2026-11-25T12:00:00Z,caf\xe9,,\n").encode("latin-1"))
    with pytest.raises(CommandError, match="is not UTF-8 text"):
        run(str(path))
    assert UsageCharge.objects.count() == 0


def test_a_field_larger_than_csv_allows_is_a_clear_error(tmp_path, customers):
    path = write(tmp_path, GOOD + "700000000001,1.00,2026-11-25T12:00:00Z,h-1,," + "x" * 200_000 + "\n")
    with pytest.raises(CommandError, match="line 5: field larger than field limit"):
        run(path)
    assert UsageCharge.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_listing_the_same_customers_in_any_order_all_go_in():
    """Two CSV files over the same customers, rows in different orders, imported at once: the
    batches used to lock the customers in row order and deadlock (PostgreSQL then aborts one)."""
    reseller = ResellerFactory()
    a, b, c = (CustomerFactory(reseller=reseller) for _ in range(3))

    def import_in_order(tag: str, order: list) -> None:
        rows = [usage_charge_check(customer_uin=customer.uin, amount="1.25", incurred_at=timezone.now(),
                                   external_id=f"{tag}-{n}-{customer.uin}", source="import")
                for n in range(20) for customer in order]
        usage_charges_ingest(reseller=reseller, rows=rows)

    orders = [[a, b, c], [c, b, a], [b, c, a], [c, a, b]]
    assert run_together([partial(import_in_order, f"file{n}", order) for n, order in enumerate(orders)]) == []
    for customer in (a, b, c):
        assert Customer.objects.get(pk=customer.pk).used == Decimal("1.25") * 20 * len(orders)
    assert UsageCharge.objects.count() == 20 * 3 * len(orders)


def test_the_csv_takes_region_pay_mode_and_instance_columns(customers, tmp_path):
    reseller, a, _, _ = customers
    path = tmp_path / "usage.csv"
    path.write_text("customer_uin,amount,incurred_at,external_id,region,pay_mode,instance_id\n"
                    "700000000001,2.00,2026-11-25T12:00:00Z,x-1,ap-hongkong,prePay,ins-1\n"
                    "700000000001,1.00,2026-11-25T12:00:00Z,x-2,,,\n", encoding="utf-8")
    run(str(path))
    assert sorted(UsageCharge.objects.values_list("external_id", "region", "pay_mode", "instance_id")) == [
        ("x-1", "ap-hongkong", "prePay", "ins-1"), ("x-2", "", "postPay", "")]
    path.write_text("customer_uin,amount,incurred_at,external_id,pay_mode\n"
                    "700000000001,2.00,2026-11-25T12:00:00Z,x-3,yearly\n", encoding="utf-8")
    with pytest.raises(CommandError):
        run(str(path))
    assert not UsageCharge.objects.filter(external_id="x-3").exists()
