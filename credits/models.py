from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Reseller

ZERO = Decimal("0.00")


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=16, decimal_places=2, **kwargs)


class CreditPool(models.Model):
    """The reseller's customer-credit pool. allocated = total - remaining is derived, not stored."""

    reseller = models.OneToOneField(Reseller, on_delete=models.CASCADE, related_name="pool")
    total = money_field(default=ZERO)
    remaining = money_field(default=ZERO)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="pool_total_not_negative"),
            models.CheckConstraint(condition=Q(remaining__gte=0), name="pool_remaining_not_negative"),
            models.CheckConstraint(condition=Q(remaining__lte=F("total")), name="pool_remaining_within_total"),
        ]

    def __str__(self) -> str:
        return f"Pool of {self.reseller.name}"

    @property
    def allocated(self) -> Decimal:
        return self.total - self.remaining


class PoolApplication(models.Model):
    """A reseller asks its channel manager for more customer credit."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    reseller = models.ForeignKey(Reseller, on_delete=models.CASCADE, related_name="pool_applications")
    amount = money_field()
    reason = models.TextField(max_length=1000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="pool_application_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="pending", reviewed_at__isnull=True) | (~Q(status="pending") & Q(reviewed_at__isnull=False)),
                name="pool_application_review_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reseller.name}: {self.amount} ({self.status})"


class PoolGrant(models.Model):
    """Credit added to a reseller's pool. pool.total is the sum of these."""

    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="pool_grants")
    amount = money_field()
    application = models.OneToOneField(
        PoolApplication, on_delete=models.PROTECT, null=True, blank=True, related_name="grant"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="pool_grant_amount_positive")]

    def __str__(self) -> str:
        return f"{self.reseller.name}: +{self.amount}"


class AllocationRecord(models.Model):
    """One allocation (positive) or repossession (negative). Immutable: a database trigger
    refuses UPDATE and DELETE."""

    class Source(models.TextChoices):
        CONSOLE = "console", _("Console")
        API = "api", _("API")
        ADMIN = "admin", _("Admin")
        SYSTEM = "system", _("System")

    created_at = models.DateTimeField(default=timezone.now, db_index=False)
    # No single-column indexes: allocation_reseller_time and allocation_customer_time lead with them.
    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="allocation_records", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="allocation_records", db_index=False)
    amount = money_field()
    credit_after = money_field()
    available_after = models.DecimalField(max_digits=17, decimal_places=2)
    pool_remaining_after = money_field()
    # PROTECT, not SET_NULL: records are immutable (a trigger refuses UPDATE), so a user who has
    # allocated is deactivated rather than deleted; admin says so instead of failing.
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who did it, kept as text so the record still says so after the user or key is gone.
    operator_name = models.CharField(max_length=150)
    source = models.CharField(max_length=16, choices=Source.choices)
    remark = models.CharField(max_length=255, blank=True)
    # Null, not "": only records with a key are unique per reseller (allocation_idempotency_key_per_reseller).
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_amount_not_zero"),
            models.CheckConstraint(condition=Q(credit_after__gte=0), name="allocation_credit_after_not_negative"),
            models.CheckConstraint(
                condition=Q(pool_remaining_after__gte=0), name="allocation_pool_after_not_negative"
            ),
            models.UniqueConstraint(
                fields=["reseller", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="allocation_idempotency_key_per_reseller",
            ),
        ]
        indexes = [
            models.Index(fields=["reseller", "-created_at", "-id"], name="allocation_reseller_time"),
            models.Index(fields=["customer", "-created_at", "-id"], name="allocation_customer_time"),
            # Allocation Records filtered to repossessions, which are rare: without it, a page of
            # them reads the reseller's records until it has found 20 (all of them when none).
            models.Index(fields=["reseller", "-created_at", "-id"], condition=Q(amount__lt=0),
                         name="allocation_reseller_repossess"),
        ]

    def __str__(self) -> str:
        return f"{self.customer.uin} {self.amount:+}"

    @property
    def kind(self) -> str:
        return "allocate" if self.amount > 0 else "repossess"


class PayMode(models.TextChoices):
    """Tencent's pay modes, spelled as its bill API spells them (PayMode)."""

    PREPAY = "prePay", _("Prepaid (yearly/monthly)")
    POSTPAY = "postPay", _("Pay-as-you-go")


class UsageCharge(models.Model):
    """One charge of consumption against a customer's credit (DESIGN §3). Each adds its amount to
    the customer's `used`; the external id (the billing system's) makes ingestion idempotent.

    On PostgreSQL the table is partitioned by month of `created_at` (migration 0007; partitions are
    made ahead by usage_partitions_ensure): its primary key is (id, created_at), and the UNIQUE
    (reseller, external id) below is kept by UsageChargeKey instead, which a trigger writes in the
    same statement as each charge. SQLite keeps a plain table with this constraint."""

    class Source(models.TextChoices):
        API = "api", _("API")
        IMPORT = "import", _("CSV import")
        SIMULATOR = "simulator", _("Demo simulator")
        SYSTEM = "system", _("System")

    # No single-column indexes: usage_charge_external_id_per_reseller and usage_charge_customer_time
    # lead with them, and each index more is written by every charge.
    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="usage_charges", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="usage_charges", db_index=False)
    amount = money_field()
    incurred_at = models.DateTimeField()
    external_id = models.CharField(max_length=128)
    product = models.CharField(max_length=100, blank=True)
    # Tencent's region id (ap-singapore, ...); empty when the billing system did not say.
    region = models.CharField(max_length=64, blank=True, default="", db_default="")
    pay_mode = models.CharField(max_length=8, choices=PayMode.choices, default=PayMode.POSTPAY,
                                db_default=PayMode.POSTPAY)
    instance_id = models.CharField(max_length=128, blank=True, default="", db_default="")
    description = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-incurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="usage_charge_amount_positive"),
            models.UniqueConstraint(fields=["reseller", "external_id"], name="usage_charge_external_id_per_reseller"),
        ]
        indexes = [
            models.Index(fields=["customer", "-incurred_at", "-id"], name="usage_charge_customer_time"),
            # The admin's source filter, newest first (migration 0010 builds it partition by partition).
            models.Index(fields=["source", "id"], name="usage_charge_source"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.amount} ({self.external_id})"


class UsageDaily(models.Model):
    """The daily rollup of a customer's usage charges (DESIGN §8): the sum and count of its charges
    per day (the day the charge was incurred, in the reseller's time zone when it was recorded),
    product, region and pay mode. usage_charges_ingest adds each batch's new charges to it in the
    same transaction that inserts them (one INSERT … ON CONFLICT DO UPDATE), so it always equals
    the sum of the charges; every chart, burn rate and bill answer reads it, never the charges.
    A late charge lands on the day it was incurred.

    PostgreSQL fills its pages to 85 % (migration 0014): adding a batch to a row already there then
    stays on the row's page and writes no index (amount and charges are in none). An index on amount
    or charges would make every such update write every index again."""

    # No foreign-key constraints in the database (migration 0013): a rollup row is only ever written
    # by the statement that inserts its charges (usage_charges_ingest), whose customer and reseller
    # the charges' own constraints check at commit, so these checked the same pair again: 1,570 more
    # deferred checks at the commit of a batch of 1,000 charges (each a KEY SHARE row lock). Django
    # still protects them (PROTECT): deleting a customer or reseller with rollups is refused.
    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="+", db_index=False,
                                 db_constraint=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False,
                                 db_constraint=False)
    day = models.DateField()
    product = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=64, blank=True)
    pay_mode = models.CharField(max_length=8, choices=PayMode.choices)
    amount = money_field()
    charges = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # The day first: a batch's charges fall on a few recent days, so its upserts look up one
            # compact, recently used part of this index. With the customer first (migration 0012
            # changed it) each of a batch's 1,000 charges read a page of its own: with 10,000,000
            # rollups the upsert took 44-47 ms a batch, 21-28 ms day first.
            models.UniqueConstraint(fields=["day", "customer", "product", "region", "pay_mode"],
                                    name="usage_daily_key"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="usage_daily_amount_positive"),
        ]
        indexes = [
            # A customer's days (its usage page, its bills, its burn rate's window). Every read of the
            # rollups is by customer; migration 0013 dropped the (reseller, day) index no query used,
            # which cost every new rollup row one more index entry.
            models.Index(fields=["customer", "day"], name="usage_daily_customer_day"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day} {self.product} {self.amount}"


class UsageChargeKey(models.Model):
    """PostgreSQL: one row per usage charge ever recorded, by (reseller, external id), with its
    customer and amount. A partitioned table cannot hold a UNIQUE constraint without its partition
    key, so this table's primary key is what keeps one charge per external id across every month;
    the trigger credits_usagecharge_key writes it in the same statement as the charge (a duplicate
    is refused by the database whatever path inserts it). It outlives an archived month, so an
    external id billed in a detached month is still recognised. Unused (empty) on SQLite."""

    pk = models.CompositePrimaryKey("reseller_id", "external_id")
    reseller_id = models.BigIntegerField()
    external_id = models.CharField(max_length=128)
    customer_id = models.BigIntegerField()
    amount = money_field()

    def __str__(self) -> str:
        return f"{self.reseller_id}/{self.external_id}"


class Repayment(models.Model):
    """A repayment the reseller has confirmed (DESIGN §2): it takes `amount` off the customer's
    `used`, so the customer's available credit grows back. Immutable once written."""

    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="repayments")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="repayments", db_index=False)
    amount = money_field()
    used_after = money_field()
    available_after = money_field()
    remark = models.CharField(max_length=255, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    confirmed_by_name = models.CharField(max_length=150)
    # Made when the form is rendered, as for allocations: a double click confirms once.
    idempotency_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_amount_positive"),
            models.CheckConstraint(condition=Q(used_after__gte=0), name="repayment_used_after_not_negative"),
            models.UniqueConstraint(fields=["reseller", "idempotency_key"], name="repayment_idempotency_key_per_reseller"),
        ]
        indexes = [models.Index(fields=["customer", "-created_at", "-id"], name="repayment_customer_time")]

    def __str__(self) -> str:
        return f"{self.customer_id} repaid {self.amount}"
