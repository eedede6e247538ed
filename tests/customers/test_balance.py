"""The customer's balance (customers.CustomerBalance): one row per customer, its rules backed by the
database, and the migration that moved credit and used off the customer row."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from credits.services import credit_allocate
from customers.models import Customer, CustomerBalance
from customers.services import customer_create
from tests.factories import CustomerFactory, ResellerFactory

pytestmark = pytest.mark.django_db


def test_customer_create_binds_the_customer_with_an_empty_balance():
    reseller = ResellerFactory()
    customer = customer_create(reseller=reseller, uin=612345678901, name="Acme")
    balance = CustomerBalance.objects.get(pk=customer.pk)
    assert (balance.reseller_id, balance.credit, balance.used, balance.available, balance.usage_band) == (
        reseller.pk, 0, 0, 0, 0
    )


def test_available_and_usage_band_follow_credit_and_used():
    customer = CustomerFactory(credit=Decimal("200.00"), used=Decimal("185.00"))
    balance = CustomerBalance.objects.get(pk=customer.pk)
    assert (balance.available, balance.usage_band) == (Decimal("15.00"), 90)
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal("250.00"))
    balance.refresh_from_db()
    assert (balance.available, balance.usage_band) == (Decimal("-50.00"), 100)


@pytest.mark.postgres
@pytest.mark.parametrize("column", ["credit", "used"])
def test_raw_sql_cannot_make_credit_or_used_negative(funded_reseller, column):
    customer = CustomerFactory(reseller=funded_reseller)
    credit_allocate(reseller=funded_reseller, customer=customer, amount="10")
    with pytest.raises(IntegrityError, match="balance_"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE customers_customerbalance SET {column} = -0.01 WHERE customer_id = %s", [customer.pk])
    balance = CustomerBalance.objects.get(pk=customer.pk)
    assert (balance.credit, balance.used) == (Decimal("10.00"), 0)


@pytest.mark.postgres
@pytest.mark.parametrize("column", ["available", "usage_band"])
def test_derived_columns_cannot_be_written(column):
    customer = CustomerFactory(credit=Decimal("100.00"))
    with pytest.raises(Exception, match="generated|DEFAULT"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE customers_customerbalance SET {column} = 1 WHERE customer_id = %s", [customer.pk])
    assert CustomerBalance.objects.get(pk=customer.pk).available == Decimal("100.00")


def test_a_customer_has_one_balance():
    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerBalance.objects.create(customer=customer, reseller=customer.reseller, credit=Decimal("5.00"))
    assert CustomerBalance.objects.filter(customer=customer).count() == 1


def test_check_ledger_reports_a_customer_without_its_balance(funded_reseller, capsys):
    customer = CustomerFactory(reseller=funded_reseller)
    other = CustomerFactory(reseller=funded_reseller)
    call_command("check_ledger")
    CustomerBalance.objects.filter(pk=customer.pk).delete()
    CustomerBalance.objects.filter(pk=other.pk).update(reseller=ResellerFactory())
    with pytest.raises(CommandError, match="mismatch"):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert f"customer {customer.uin} has no balance of its reseller" in err
    assert f"customer {other.uin} has no balance of its reseller" in err
    # PostgreSQL refuses that state at commit (customers 0010, a deferred foreign key), and the test's
    # end checks deferred constraints: put it back.
    CustomerBalance.objects.filter(pk=other.pk).update(reseller=funded_reseller)


def test_the_customer_reads_its_balance_in_one_query(django_assert_num_queries):
    customer = CustomerFactory(credit=Decimal("100.00"), used=Decimal("80.00"))
    with django_assert_num_queries(1):
        loaded = Customer.objects.select_related("balance").get(pk=customer.pk)
        assert (loaded.credit, loaded.used, loaded.available, loaded.usage_band) == (100, 80, 20, 75)
        assert loaded.repossessable == Decimal("20.00")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_every_balance_and_back():
    before, split = [("customers", "0008_customer_reseller_frozen")], [("customers", "0009_customer_balance")]
    apps = _migrate(before)
    try:
        Reseller = apps.get_model("customers", "Reseller")
        OldCustomer = apps.get_model("customers", "Customer")
        reseller = Reseller.objects.create(name="Old", uin=510000000001)
        rows = [("100.00", "91.00"), ("0.00", "5.00"), ("250.50", "0.00")]
        for i, (credit, used) in enumerate(rows):
            OldCustomer.objects.create(reseller=reseller, uin=610000000001 + i, name=f"Old {i}",
                                       credit=Decimal(credit), used=Decimal(used))

        apps = _migrate(split)
        Balance = apps.get_model("customers", "CustomerBalance")
        moved = sorted(Balance.objects.values_list("customer__uin", "reseller_id", "credit", "used", "available", "usage_band"))
        assert moved == [
            (610000000001, reseller.pk, Decimal("100.00"), Decimal("91.00"), Decimal("9.00"), 90),
            (610000000002, reseller.pk, Decimal("0.00"), Decimal("5.00"), Decimal("-5.00"), 100),
            (610000000003, reseller.pk, Decimal("250.50"), Decimal("0.00"), Decimal("250.50"), 0),
        ]
        Balance.objects.filter(customer__uin=610000000003).update(used=Decimal("200.00"))

        apps = _migrate(before)
        back = sorted(apps.get_model("customers", "Customer").objects.values_list("uin", "credit", "used", "usage_band"))
        assert back == [
            (610000000001, Decimal("100.00"), Decimal("91.00"), 90),
            (610000000002, Decimal("0.00"), Decimal("5.00"), 100),
            (610000000003, Decimal("250.50"), Decimal("200.00"), 75),
        ]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.postgres
def test_a_balance_with_another_resellers_copy_is_refused():
    customer = CustomerFactory()
    other = ResellerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerBalance.objects.filter(pk=customer.pk).update(reseller=other)
        connection.check_constraints()
    assert CustomerBalance.objects.get(pk=customer.pk).reseller_id == customer.reseller_id


@pytest.mark.parametrize(("credit", "used", "ratio"), [
    ("1000.00", "500.00", Decimal("0.5")),
    ("3.00", "1.00", Decimal("0.333333")),
    ("200.00", "185.50", Decimal("0.9275")),
    ("0.00", "0.00", Decimal("0")),
])
def test_used_ratio_is_used_over_credit_with_whole_amounts_too(credit, used, ratio):
    """SQLite (make run) keeps whole amounts as integers and divided them as integers: 500 / 1000
    was stored as 0, and Used % sorted half-used customers among the unused."""
    customer = CustomerFactory(credit=Decimal(credit), used=Decimal(used))
    stored = CustomerBalance.objects.get(pk=customer.pk).used_ratio
    assert Decimal(stored).quantize(Decimal("0.000001")) == ratio


def test_credit_zero_with_usage_has_no_used_ratio():
    customer = CustomerFactory(credit=Decimal("0.00"), used=Decimal("5.00"))
    assert CustomerBalance.objects.get(pk=customer.pk).used_ratio is None


@pytest.mark.postgres
def test_used_ratio_sql_is_unchanged_on_postgresql():
    """Migration 0021 changes only the migration state on PostgreSQL: Quotient writes there exactly
    the SQL of the F("used") / F("credit") it replaced, so the stored column needs no rewrite."""
    from django.db.models import F
    from django.db.models.sql import Query

    field = CustomerBalance._meta.get_field("used_ratio")
    before = field.expression.copy()
    before.cases = [case.copy() for case in before.cases]
    before.cases[0].result = F("used") / F("credit")
    query = Query(model=CustomerBalance, alias_cols=False)
    compiler = connection.ops.compiler("SQLCompiler")(query, connection=connection, using=None)
    assert field.generated_sql(connection) == compiler.compile(before.resolve_expression(query, allow_joins=False))
    assert '("used" / "credit")' in field.generated_sql(connection)[0]


@pytest.mark.parametrize(("burn_sum", "burn_rate", "allowed"), [
    ("10.00", "1.4286", True), ("7.00", "1.0000", True), ("0.00", "0.0000", True),
    ("10.00", "1.4285", False), ("7.00", "2.0000", False),
])
def test_a_counted_burn_window_has_the_burn_rate_of_its_sum(burn_sum, burn_rate, allowed):
    """The database keeps burn_rate = ROUND(burn_sum / 7, 4) once the window is counted (burn_day),
    whoever writes the balance; a balance not counted yet (no day) is not held to it."""
    customer = CustomerFactory()
    rows = CustomerBalance.objects.filter(pk=customer.pk)
    rows.update(burn_rate=Decimal("3.0000"))  # not counted yet: any rate
    fields = {"burn_sum": Decimal(burn_sum), "burn_rate": Decimal(burn_rate), "burn_day": date(2026, 12, 1)}
    if allowed:
        rows.update(**fields)
        assert CustomerBalance.objects.get(pk=customer.pk).burn_rate == Decimal(burn_rate)
    else:
        with pytest.raises(IntegrityError), transaction.atomic():
            rows.update(**fields)
