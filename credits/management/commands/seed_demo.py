import random
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from credits import services as credit_services
from credits.models import AllocationRecord
from customers import services as customer_services
from customers.models import Customer, CustomerBalance, Member, Reseller
from notifications.services.status import customer_freeze, suspension_deadlines_run

DEMO = {"name": "Demo Cloud Reseller", "uin": 100000000001, "username": "demo", "password": "demo-password",
        "email": "partner@demo-reseller.example", "phone": "+6580000001", "first_customer_uin": 200000000001,
        "customers": 200, "pool": Decimal("2000000.00")}
OTHER = {"name": "Other Reseller Ltd", "uin": 100000000002, "username": "other", "password": "other-password",
         "email": "ops@other-reseller.example", "phone": "+6580000002", "first_customer_uin": 300000000001,
         "customers": 20, "pool": Decimal("100000.00")}

# Onboarding in every state (DESIGN §7): a customer that signs in to its portal, an application
# waiting for approval, and an unused invitation whose link is printed.
PORTAL = {"email": "customer@demo-client.example", "password": "portal-demo-2026", "name": "Demo Client Portal Co"}
PENDING = {"email": "pending@demo-client.example", "password": "pending-demo-2026", "name": "Waiting Approval Ltd"}
INVITED = "invited@demo-client.example"

COMPANY_WORDS = ["Acme", "Blue", "Harbor", "Lotus", "Nimbus", "Orchid", "Pixel", "Quartz", "River", "Summit",
                 "Tiger", "Vertex", "Willow", "Zenith", "Coral", "Delta", "Ember", "Falcon", "Granite", "Jade"]
COMPANY_KINDS = ["Games", "Logistics", "Media", "Studio", "Retail", "Labs", "Health", "Travel", "Foods", "Fintech"]
# Shares of credit used, chosen so that some customers sit past 75 %, 90 % and 100 %, and a few
# have negative available credit.
USAGE_SHARES = [Decimal(x) for x in ["0", "0.05", "0.2", "0.4", "0.55", "0.6", "0.7", "0.78", "0.8", "0.92", "0.95", "1.0", "1.1", "1.25"]]


HISTORY_DAYS = 90
REGIONS = ("ap-singapore", "ap-hongkong", "ap-bangkok", "na-siliconvalley")


def usage_history(uin: int, used: Decimal, now) -> list[dict]:
    """`used` spread over the last HISTORY_DAYS days as daily charges (one or two a day, by product,
    region and pay mode), so that every chart and burn rate has a history. Its own random source,
    seeded by the UIN, leaves the seeded customers as they were."""
    rng = random.Random(uin)
    trend = rng.choice([-1, 0, 0, 1, 2])  # shrinking, steady or growing spend
    weights = [max(0.05, 1 + trend * day / HISTORY_DAYS + rng.uniform(-0.4, 0.4)) for day in range(HISTORY_DAYS)]
    total = sum(weights)
    amounts = [(used * Decimal(w / total)).quantize(Decimal("0.01")) for w in weights]
    amounts[amounts.index(max(amounts))] += used - sum(amounts)  # the rounding, where it cannot go below 0
    products = rng.sample(["CVM", "COS", "CDN", "TencentDB"], k=rng.randint(1, 3))
    region = REGIONS[uin % len(REGIONS)]
    rows = []
    for day, amount in enumerate(amounts):
        if amount <= 0:
            continue
        at = now - timedelta(days=HISTORY_DAYS - 1 - day, minutes=uin % 600)
        parts = [amount] if len(products) == 1 or amount < Decimal("0.10") else [
            (amount * Decimal("0.7")).quantize(Decimal("0.01")), amount - (amount * Decimal("0.7")).quantize(Decimal("0.01"))]
        for n, part in enumerate(parts):
            product = products[(day + n) % len(products)]
            rows.append(credit_services.usage_charge_check(
                customer_uin=uin, amount=part, incurred_at=at, external_id=f"seed-{uin}-{day}-{n}", product=product,
                region=region, pay_mode="prePay" if product == "TencentDB" else "postPay",
                instance_id=f"ins-{uin % 100000:05d}{n}", description="Demo usage", source="system",
            ))
    return rows


class Command(BaseCommand):
    help = "Load the demo resellers (users demo / demo-password and other / other-password). Safe to run twice."

    def handle(self, *args, **options):
        for spec in (DEMO, OTHER):
            self.seed(spec)
        self.stdout.write(self.style.SUCCESS("Demo login: user 'demo', password 'demo-password' (second reseller: 'other' / 'other-password')."))
        self.stdout.write(self.style.SUCCESS(
            f"Customer portal (/portal/login/): user '{PORTAL['email']}', password '{PORTAL['password']}'."))

    def seed(self, spec):
        if Reseller.objects.filter(uin=spec["uin"]).exists():
            self.stdout.write(f"{spec['name']} is already loaded; nothing to do.")
            return
        rng = random.Random(spec["uin"])
        with transaction.atomic():
            reseller = credit_services.reseller_create(
                name=spec["name"], uin=spec["uin"], contact_email=spec["email"], contact_phone=spec["phone"]
            )
            member = customer_services.member_create(
                reseller=reseller, username=spec["username"], password=spec["password"],
                role=Member.Role.ADMIN, email=spec["email"],
            )
            if spec is DEMO:
                customer_services.member_create(reseller=reseller, username="demo-viewer", password="viewer-password",
                                                role=Member.Role.VIEWER, email="viewer@demo-reseller.example")
            credit_services.pool_grant(reseller=reseller, amount=spec["pool"], note="Initial customer credit")
            now = timezone.now()
            history: list[dict] = []
            for i in range(spec["customers"]):
                uin = spec["first_customer_uin"] + i
                company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {i + 1}"
                slug = company.lower().replace(" ", "-")
                customer = customer_services.customer_create(
                    reseller=reseller, uin=uin, name=company, email=f"billing@{slug}.example",
                    phone=f"+65{rng.randint(80000000, 99999999)}",
                    remark=rng.choice(["", "", "VIP", "Trial", "Reseller referral", "Game studio"]),
                    identity_type=rng.choice([Customer.IdentityType.ENTERPRISE, Customer.IdentityType.PERSONAL]),
                    bound_at=now - timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 1440)),
                )
                if i % 17 == 16:
                    continue  # a few customers have no credit yet
                for _ in range(rng.randint(1, 3)):
                    credit_services.credit_allocate(
                        reseller=reseller, customer=customer, amount=Decimal(rng.randint(10, 500) * 10),
                        actor=member.user, remark=rng.choice(["", "Monthly top-up", "New project", "Promotion"]),
                    )
                customer.refresh_from_db()
                share = rng.choice(USAGE_SHARES)
                used = (customer.credit * share).quantize(Decimal("0.01"))
                if used > 0:
                    history.extend(usage_history(uin, used, now))
                if share < Decimal("0.5") and rng.random() < 0.3:
                    credit_services.credit_allocate(
                        reseller=reseller, customer=customer,
                        amount=-((customer.credit - used) / 4).quantize(Decimal("0.01")) or Decimal("-1.00"),
                        actor=member.user, remark="Repossess unused credit",
                    )
            # Demo usage arrives like real usage: as charges, idempotent by their external ids, in
            # batches (the repossessions above only took credit the usage leaves available).
            for start in range(0, len(history), 2000):
                credit_services.usage_charges_ingest(reseller=reseller, rows=history[start : start + 2000])
            if spec is DEMO:
                self.seed_statuses(reseller, member, now)
                self.seed_onboarding(reseller, member)
        records = AllocationRecord.objects.filter(reseller=reseller).count()
        self.stdout.write(f"Loaded {spec['name']}: {spec['customers']} customers, {records} allocation records.")

    def seed_statuses(self, reseller, member, now):
        """Customers in every account status (DESIGN §4): overdue ones come from the usage above;
        two are frozen; then the reseller joins the suspension-rule allowlist, and three more are
        frozen and so suspended: one just now, one 10 days ago (its 7-day notice is out), one 16
        days ago (its data is deleted by the deadline job). One customer holds the non-stop
        privilege. All through the services, events and notices included."""
        normal = list(
            CustomerBalance.objects.filter(reseller=reseller, frozen=False, credit__gt=0, credit__gte=F("used"))
            .order_by("customer_id").values_list("customer_id", flat=True)[:6]
        )
        frozen, suspended = normal[:2], normal[2:5]
        for customer_id in frozen:
            customer_freeze(reseller=reseller, customer=customer_id, actor=member.user,
                            actor_name=member.user.get_username(), now=now - timedelta(days=2))
        reseller.suspension_allowlisted = True
        reseller.save(update_fields=["suspension_allowlisted"])
        for customer_id, days in zip(suspended, (0, 10, 16)):
            customer_freeze(reseller=reseller, customer=customer_id, actor=member.user,
                            actor_name=member.user.get_username(), now=now - timedelta(days=days))
        Customer.objects.filter(pk__in=normal[5:6]).update(non_stop=True)
        suspension_deadlines_run(now=now)

    def seed_onboarding(self, reseller, member):
        def registered(person):
            _, link = customer_services.invitation_create(reseller=reseller, email=person["email"], actor=member.user)
            return customer_services.application_register(
                token=link.rstrip("/").rsplit("/", 1)[1], name=person["name"], email=person["email"],
                phone="+6590001234", password=person["password"], identity_type=Customer.IdentityType.ENTERPRISE,
            )

        application = registered(PORTAL)
        customer = customer_services.application_approve(reseller=reseller, uin=application.uin, actor=member.user)
        credit_services.credit_allocate(reseller=reseller, customer=customer, amount=Decimal("1000.00"),
                                        actor=member.user, remark="Welcome credit")
        # 78 % used, spread over the last 90 days: its portal's usage chart has a history too.
        credit_services.usage_charges_ingest(
            reseller=reseller, rows=usage_history(customer.uin, Decimal("780.00"), timezone.now()))
        registered(PENDING)
        _, link = customer_services.invitation_create(reseller=reseller, email=INVITED, actor=member.user)
        self.stdout.write(f"Onboarding: customer {customer.uin} signs in to the portal; 1 pending application; "
                          f"an unused invitation for {INVITED}: {link}")
