from django.core.management.base import BaseCommand, CommandError

from credits.selectors import ledger_mismatches


class Command(BaseCommand):
    help = (
        "Check for every reseller that pool.total == pool.remaining + customers' credit, that each customer's "
        "credit equals the sum of its records, and that each customer has one balance, of its own reseller."
    )

    def handle(self, *args, **options):
        problems = ledger_mismatches()
        for problem in problems:
            self.stderr.write(f"MISMATCH {problem}")
        if problems:
            raise CommandError(f"{len(problems)} ledger mismatch(es) found.")
        self.stdout.write(self.style.SUCCESS("Ledger is consistent: every pool and customer balances."))
