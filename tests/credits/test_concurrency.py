"""8 threads with their own connections race allocations and repossessions on one pool."""

import random
import threading
from decimal import Decimal
from functools import partial

import pytest
from django.core.management import call_command
from django.db import connection

from core.errors import InsufficientPoolBalance, InvalidValue, RepossessTooMuch
from credits.models import AllocationRecord, CreditPool
from credits.services import credit_allocate, pool_grant
from customers.models import Customer, CustomerBalance
from tests.factories import CustomerFactory, ResellerFactory
from tests.threads import run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

THREADS = 8
OPERATIONS_PER_THREAD = 200


def test_random_allocations_keep_the_ledger(capsys):
    reseller = ResellerFactory()
    pool_grant(reseller=reseller, amount="5000.00")
    customers = [CustomerFactory(reseller=reseller) for _ in range(3)]
    # Some usage so that repossession limits bite below credit.
    CustomerBalance.objects.filter(pk=customers[0].pk).update(used=Decimal("150.00"))
    refusals = {"pool": 0, "repossess": 0}
    done = {"ok": 0}
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(OPERATIONS_PER_THREAD):
            customer = rng.choice(customers)
            amount = Decimal(rng.randint(1, 40000)) / 100
            if rng.random() < 0.45:
                amount = -amount
            try:
                credit_allocate(reseller=reseller, customer=customer.pk, amount=amount, source="system")
                with lock:
                    done["ok"] += 1
            except InsufficientPoolBalance:
                with lock:
                    refusals["pool"] += 1
            except RepossessTooMuch:
                with lock:
                    refusals["repossess"] += 1

    # A deadlock or anything else escaping to the caller is an error here.
    assert run_together([partial(worker, seed) for seed in range(THREADS)]) == []
    assert done["ok"] + refusals["pool"] + refusals["repossess"] == THREADS * OPERATIONS_PER_THREAD
    assert done["ok"] == AllocationRecord.objects.count()
    assert done["ok"] > THREADS * OPERATIONS_PER_THREAD / 4

    pool = CreditPool.objects.get(reseller=reseller)
    total_credit = sum(Customer.objects.filter(reseller=reseller).values_list("balance__credit", flat=True))
    assert pool.total == pool.remaining + total_credit

    # Each record's "after" values chain from the previous record, per customer and for the pool.
    used = dict(Customer.objects.filter(reseller=reseller).values_list("id", "balance__used"))
    credit_by_customer = {c.pk: Decimal("0.00") for c in customers}
    remaining = pool.total
    for record in AllocationRecord.objects.order_by("id"):
        before = credit_by_customer[record.customer_id]
        if record.amount < 0:
            # No repossession exceeded the available credit of its moment.
            assert -record.amount <= max(before - used[record.customer_id], Decimal("0.00"))
        credit_by_customer[record.customer_id] = before + record.amount
        remaining -= record.amount
        assert record.credit_after == credit_by_customer[record.customer_id]
        assert record.available_after == record.credit_after - used[record.customer_id]
        assert record.pool_remaining_after == remaining
    assert remaining == pool.remaining

    call_command("check_ledger")
    assert "Ledger is consistent" in capsys.readouterr().out
    assert connection.vendor == "postgresql"


def test_allocations_usage_batches_and_repayments_share_one_lock_order(capsys):
    """Every path locks the customer's balance, then (allocations only) the pool: allocations,
    usage batches over several customers (in any order) and repayments racing on the same
    customers never deadlock, and credit, used and the pool all add up afterwards."""
    from datetime import UTC, datetime

    from credits.models import UsageCharge
    from credits.services import repayment_confirm, usage_charge_check, usage_charges_ingest

    reseller = ResellerFactory()
    pool_grant(reseller=reseller, amount="100000.00")
    customers = [CustomerFactory(reseller=reseller) for _ in range(4)]
    incurred = datetime(2026, 1, 1, tzinfo=UTC)
    repaid = {"total": Decimal("0.00")}
    lock = threading.Lock()

    def allocator(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(40):
            customer = rng.choice(customers)
            credit_allocate(reseller=reseller, customer=customer.pk, amount=Decimal(rng.randint(1, 500)), source="system")

    def biller(seed: int) -> None:
        rng = random.Random(seed)
        for batch in range(10):
            order = customers[:]
            rng.shuffle(order)
            rows = [usage_charge_check(customer_uin=customer.uin, amount="1.25", incurred_at=incurred,
                                       external_id=f"{seed}-{batch}-{customer.uin}") for customer in order]
            usage_charges_ingest(reseller=reseller, rows=rows)

    def repayer(seed: int) -> None:
        rng = random.Random(seed)
        for n in range(20):
            customer = rng.choice(customers)
            try:
                repayment_confirm(reseller=reseller, customer=customer, amount="0.50", actor=None,
                                  idempotency_key=f"repay-{seed}-{n}")
            except InvalidValue:  # more than the customer has used so far: refused, nothing written
                continue
            with lock:
                repaid["total"] += Decimal("0.50")

    targets = [partial(allocator, 1), partial(allocator, 2), partial(biller, 3), partial(biller, 4),
               partial(repayer, 5), partial(repayer, 6)]
    assert run_together(targets) == []

    charged = sum(UsageCharge.objects.filter(reseller=reseller).values_list("amount", flat=True))
    assert charged == Decimal("1.25") * 4 * 10 * 2
    used = sum(CustomerBalance.objects.filter(reseller=reseller).values_list("used", flat=True))
    assert used == charged - repaid["total"]
    assert AllocationRecord.objects.filter(reseller=reseller).count() == 80
    call_command("check_ledger")
    assert "Ledger is consistent" in capsys.readouterr().out
