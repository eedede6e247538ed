from django.core.management.base import BaseCommand, CommandError

from credits.services import usage_simulate
from credits.tasks import DEMO_RESELLER_UIN
from customers.models import Reseller


class Command(BaseCommand):
    help = "Record random demo usage for a reseller's customers (default: the demo reseller)."

    def add_arguments(self, parser):
        parser.add_argument("--reseller", type=int, default=DEMO_RESELLER_UIN, help="reseller UIN")
        parser.add_argument("--charges", type=int, default=5, help="random charges besides the one pushed past 90 %%")

    def handle(self, *args, reseller, charges, **options):
        found = Reseller.objects.filter(uin=reseller).first()
        if found is None:
            raise CommandError(f"No reseller with UIN {reseller}; run `manage.py seed_demo` first.")
        if charges < 0:
            raise CommandError("--charges must be 0 or more.")
        recorded = usage_simulate(reseller=found, charges=charges)
        for charge in recorded:
            self.stdout.write(f"{charge.customer.uin}: +{charge.amount} USD ({charge.product})")
        self.stdout.write(self.style.SUCCESS(f"Recorded {len(recorded)} demo usage charge(s) for {found.name}."))
