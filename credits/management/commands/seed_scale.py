"""Bulk-load one reseller with N customers and M allocation records for benchmarks.

Writes with COPY on PostgreSQL (bulk_create elsewhere) and keeps DESIGN §2 conservation: each
customer's credit is the sum of its records, every record's "after" values chain, and the pool
total equals remaining plus the customers' credit.
"""

import random
import time
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from credits.models import AllocationRecord, CreditPool, PoolGrant
from credits.services import reseller_create
from customers.models import Customer, CustomerBalance, Reseller
from customers.services import member_create

UINS_PER_RESELLER = 1_000_000
CUSTOMER_COLUMNS = ["uin", "reseller_id", "name", "email", "phone", "remark", "bound_at", "identity_type"]
BALANCE_COLUMNS = ["customer_id", "reseller_id", "credit", "used"]
RECORD_COLUMNS = ["created_at", "reseller_id", "customer_id", "amount", "credit_after", "available_after",
                  "pool_remaining_after", "operator_name", "source", "remark"]


class Command(BaseCommand):
    help = "Bulk-load a benchmark reseller: --customers N --records M (--uin picks the reseller)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--records", type=int, default=0)
        parser.add_argument("--uin", type=int, default=900000000001, help="reseller UIN (customers get UINs after it)")
        parser.add_argument("--username", default="bench")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, customers, records, uin, username, seed, **options):
        started = time.monotonic()
        if Reseller.objects.filter(uin=uin).exists():
            self.stdout.write(f"Reseller {uin} already exists; nothing loaded.")
            return
        if not 0 < customers <= UINS_PER_RESELLER:
            raise CommandError(f"--customers must be 1 to {UINS_PER_RESELLER:,} (each reseller gets its own UIN block).")
        rng = random.Random(seed)
        now = timezone.now()
        with transaction.atomic():
            reseller = reseller_create(name=f"Scale Reseller {uin}", uin=uin, contact_email=f"ops-{uin}@scale.example")
            member_create(reseller=reseller, username=username, password=f"{username}-password", role="admin")
            # Customer UINs are a block of their own per reseller UIN, so two loads never collide.
            first_uin = uin * UINS_PER_RESELLER
            counts = [0] * customers
            for _ in range(records):
                counts[rng.randrange(customers)] += 1
            customer_rows = []
            credits = []
            useds = []
            for i in range(customers):
                credit = Decimal(rng.randint(0, 2000) * 5) if counts[i] else Decimal("0.00")
                credit = max(credit, Decimal(10 * counts[i]))
                used = (credit * Decimal(rng.choice([0, 10, 40, 60, 76, 80, 91, 95, 100, 120])) / 100).quantize(Decimal("0.01"))
                credits.append(credit)
                useds.append(used)
                customer_rows.append([
                    first_uin + i, reseller.pk, f"Customer {i:06d} {rng.choice(['Games', 'Media', 'Retail', 'Labs'])}",
                    f"c{i}@scale.example", f"+65{80000000 + i}", rng.choice(["", "VIP", "Trial"]),
                    now - timedelta(minutes=i), "enterprise",
                ])
            self._write(Customer, CUSTOMER_COLUMNS, customer_rows)
            ids = dict(Customer.objects.filter(reseller=reseller).values_list("uin", "id"))
            self._write(CustomerBalance, BALANCE_COLUMNS, [
                [ids[first_uin + i], reseller.pk, credit, used] for i, (credit, used) in enumerate(zip(credits, useds))
            ])
            total_credit = sum(credits, Decimal("0.00"))
            pool_total = total_credit + Decimal("1000000.00")
            PoolGrant.objects.create(reseller=reseller, amount=pool_total, note="seed_scale")
            CreditPool.objects.filter(reseller=reseller).update(total=pool_total, remaining=pool_total - total_credit)
            self._write_records(reseller, rng, counts, credits, useds, ids, first_uin, pool_total, now)
        self.stdout.write(
            f"Loaded reseller {uin} (login {username} / {username}-password): {customers} customers, "
            f"{records} records in {time.monotonic() - started:.1f}s."
        )

    def _write_records(self, reseller, rng, counts, credits, useds, ids, first_uin, pool_total, now):
        # Split each customer's credit into counts[i] records (a repossession now and then),
        # then lay them out in time order so the pool's "remaining after" chains too.
        events = []
        span = 365 * 24 * 3600
        for i, n in enumerate(counts):
            if not n:
                continue
            parts = _split(credits[i], n, rng)
            times = sorted(rng.randrange(span) for _ in range(n))
            for amount, t in zip(parts, times):
                events.append((t, i, amount))
        events.sort()
        remaining = pool_total
        running = [Decimal("0.00")] * len(credits)
        start = now - timedelta(seconds=span)
        batch = []
        for t, i, amount in events:
            remaining -= amount
            running[i] += amount
            batch.append([start + timedelta(seconds=t), reseller.pk, ids[first_uin + i], amount, running[i],
                          running[i] - useds[i], remaining,
                          "bench", "system", ""])
            if len(batch) >= 50_000:
                self._write(AllocationRecord, RECORD_COLUMNS, batch)
                batch = []
        if batch:
            self._write(AllocationRecord, RECORD_COLUMNS, batch)

    def _write(self, model, columns, rows):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                copy_sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
                with cursor.cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            fields = {c: c for c in columns}
            objs = [model(**{fields[c]: v for c, v in zip(columns, row)}) for row in rows]
            model.objects.bulk_create(objs, batch_size=2000)


def _split(total: Decimal, n: int, rng: random.Random) -> list[Decimal]:
    """n positive amounts summing to total (total >= n cents)."""
    base = (total / n).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return [base] * (n - 1) + [total - base * (n - 1)]
