from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.rules import FULL, THRESHOLDS
from core.timezones import reseller_zone, validate_time_zone

ZERO = Decimal("0.00")


def usage_band_expression() -> Case:
    """The highest default threshold (core.rules.THRESHOLDS) the customer's usage reaches, else 0.
    Full credit is `used >= credit` with something used, so credit 0 with usage counts as FULL; the
    lower thresholds need credit. The stored column's SQL comes from its migration: a change here
    shows up as a new migration (makemigrations), never silently."""
    whens = [When(Q(used__gt=0) & Q(used__gte=F("credit")), then=Value(FULL))]
    for threshold in sorted((t for t in THRESHOLDS if t != FULL), reverse=True):
        share = (Decimal(threshold) / 100).quantize(Decimal("0.01"))
        whens.append(When(Q(credit__gt=0) & Q(used__gte=F("credit") * Value(share)), then=Value(threshold)))
    return Case(*whens, default=Value(0), output_field=models.SmallIntegerField())


def used_ratio_expression() -> Case:
    """used / credit, the order of core.rules.used_percent, for sorting My Customers by Used %:
    stored and indexed. Credit 0 with usage ("over 100%") is NULL, which PostgreSQL sorts above
    every ratio in both directions (NULLS LAST ascending, NULLS FIRST descending, as its index
    does); credit 0 with nothing used shows no percentage and sorts as 0."""
    return Case(
        When(credit__gt=0, then=F("used") / F("credit")),
        When(used__gt=0, then=Value(None)),
        default=Value(Decimal("0")),
        output_field=models.DecimalField(max_digits=24, decimal_places=6),
    )


def language_choices() -> list[tuple[str, str]]:
    """The console's languages (settings.LANGUAGES): what a member, a customer or a reseller's
    contact reads its console, e-mails and SMS in."""
    return list(settings.LANGUAGES)


def default_language() -> str:
    return settings.LANGUAGE_CODE


def default_reseller_time_zone() -> str:
    return settings.DEFAULT_RESELLER_TIME_ZONE


class Reseller(models.Model):
    """A partner: it gets a customer-credit pool from its channel manager and hands it out."""

    name = models.CharField(max_length=200)
    uin = models.BigIntegerField(_("UIN"), unique=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    time_zone = models.CharField(max_length=64, default=default_reseller_time_zone, validators=[validate_time_zone])
    customer_alerts_enabled = models.BooleanField(
        _("send alerts to customers"), default=True, help_text=_("Switch off to alert only the reseller.")
    )
    # Usage alerts: which channels reach the contact address / phone and the customers.
    contact_alert_email = models.BooleanField(_("e-mail alerts to the contact address"), default=True)
    contact_alert_sms = models.BooleanField(_("SMS alerts to the contact phone"), default=True)
    customer_alert_email = models.BooleanField(_("e-mail alerts to customers"), default=True)
    customer_alert_sms = models.BooleanField(_("SMS alerts to customers"), default=True)
    customer_alert_inbox = models.BooleanField(_("Message Center alerts to customers"), default=True)
    # The contact address's and phone's language (its e-mails and SMS); empty is the default language.
    language = models.CharField(
        _("language"), max_length=16, choices=language_choices, default=default_language, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            # The one UIN rule (core.inputs) and a required name, as for customers: backed here too.
            models.CheckConstraint(condition=Q(uin__gt=0), name="reseller_uin_positive"),
            models.CheckConstraint(condition=~Q(name=""), name="reseller_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uin})"

    @cached_property
    def zone(self) -> ZoneInfo:
        """time_zone as a ZoneInfo, resolved once per instance (so once per request): a bad stored
        value logs one warning, not one per time shown."""
        return reseller_zone(self.time_zone)


class Member(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        OPERATOR = "operator", _("Operator")
        VIEWER = "viewer", _("Viewer")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member")
    reseller = models.ForeignKey(Reseller, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)
    # Usage alerts reach the member on each channel switched on here (e-mail to user.email).
    phone = models.CharField(max_length=32, blank=True)
    alert_email = models.BooleanField(_("e-mail alerts"), default=True)
    alert_sms = models.BooleanField(_("SMS alerts"), default=False)
    alert_inbox = models.BooleanField(_("Message Center alerts"), default=True)
    # The console's and the member's e-mails' and SMS' language; empty until the member picks one
    # (the browser's language then), applied on each request (partnercenter.middleware).
    language = models.CharField(_("language"), max_length=16, choices=language_choices, blank=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.reseller.name} ({self.role})"

    @property
    def can_allocate(self) -> bool:
        return self.role in {self.Role.ADMIN, self.Role.OPERATOR}


class Customer(models.Model):
    class IdentityType(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        ENTERPRISE = "enterprise", _("Enterprise")

    class AccountStatus(models.TextChoices):
        NORMAL = "normal", _("Normal")
        FROZEN = "frozen", _("Frozen")

    uin = models.BigIntegerField(_("UIN"), unique=True)
    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    remark = models.CharField(max_length=255, blank=True)
    bound_at = models.DateTimeField(_("binding time"), default=timezone.now)
    identity_type = models.CharField(max_length=16, choices=IdentityType.choices, default=IdentityType.ENTERPRISE)
    account_status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.NORMAL)
    # Custom balance warning: alert the reseller when available drops below this % of credit.
    custom_warning_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    # The customer's own usage-alert channels (DESIGN §3: each recipient's channels can be switched
    # off). The reseller-wide switches in Settings apply on top of these. A database default, because
    # bulk loads (seed_scale's COPY) name only the columns they fill.
    alert_email = models.BooleanField(_("e-mail alerts to this customer"), default=True, db_default=True)
    alert_sms = models.BooleanField(_("SMS alerts to this customer"), default=True, db_default=True)
    alert_inbox = models.BooleanField(_("Message Center alerts to this customer"), default=True, db_default=True)
    # The language of the customer's e-mails, SMS and Message Center texts; empty is the default language.
    language = models.CharField(
        _("language"), max_length=16, choices=language_choices, default=default_language, db_default="en", blank=True
    )

    class Meta:
        ordering = ["-bound_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(uin__gt=0), name="customer_uin_positive"),
            models.CheckConstraint(condition=~Q(name=""), name="customer_name_not_empty"),
            models.CheckConstraint(
                condition=Q(custom_warning_percent__isnull=True)
                | (Q(custom_warning_percent__gte=0) & Q(custom_warning_percent__lte=100)),
                name="customer_custom_warning_0_100",
            ),
        ]
        indexes = [
            models.Index(fields=["reseller", "-bound_at", "-id"], name="customer_reseller_bound"),
            models.Index(fields=["reseller", "name"], name="customer_reseller_name"),
            # My Customers sorts by these too (issue 14): each sort walks an index, never sorts them all.
            models.Index(fields=["reseller", "account_status", "id"], name="customer_reseller_status"),
            models.Index(fields=["reseller", "remark", "id"], name="customer_reseller_remark"),
            models.Index(fields=["reseller", "email", "id"], name="customer_reseller_email"),
            # Frozen customers are few: My Customers filtered to them reads only these rows.
            models.Index(fields=["reseller", "-bound_at", "-id"], condition=Q(account_status="frozen"),
                         name="customer_reseller_frozen"),
            # The alert sweep walks customers with a custom warning in id order (keyset batches);
            # those past a default threshold come from the balance table's balance_alertable.
            models.Index(
                fields=["reseller", "id"],
                condition=Q(custom_warning_percent__isnull=False),
                name="customer_custom_warning",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uin})"

    # The money lives in CustomerBalance (customer.balance); these read it, so that a template or
    # an API answer says customer.credit. A list that shows them selects the balance with the row
    # (select_related("balance")), or each row costs a query.
    @property
    def credit(self) -> Decimal:
        return self.balance.credit

    @property
    def used(self) -> Decimal:
        return self.balance.used

    @property
    def available(self) -> Decimal:
        return self.balance.available

    @property
    def usage_band(self) -> int:
        return self.balance.usage_band

    @property
    def repossessable(self) -> Decimal:
        return self.balance.repossessable


class CustomerBalance(models.Model):
    """A customer's money, one row per customer, apart from its profile (DESIGN §2).

    Every allocation, repossession, repayment and usage charge updates this row. On the customer
    row each update rewrote 13 indexes, 3 of them trigram GIN indexes on text no payment changes;
    here a payment rewrites a narrow row and the few indexes the console sorts and filters by. The
    row lock on it is the customer's lock in the fixed lock order (customer, then pool).
    reseller is a copy of the customer's, so that every index here is per reseller."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="balance")
    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="+", db_index=False)
    # credit = net sum of the allocation records; used = recorded consumption less confirmed
    # repayments. Both only change through credits.services, under this row's lock.
    credit = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    used = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    # Stored, so that sorting and filtering 100,000 customers uses an index.
    available = models.GeneratedField(
        expression=F("credit") - F("used"),
        output_field=models.DecimalField(max_digits=17, decimal_places=2),
        db_persist=True,
    )
    # Highest default threshold reached (0 for none): stored and indexed, so that the usage filter,
    # the Overview's counts and the alert sweep read a column rather than compute used / credit.
    usage_band = models.GeneratedField(
        expression=usage_band_expression(),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    # Stored, so that sorting by Used % uses an index (used_ratio_expression).
    used_ratio = models.GeneratedField(
        expression=used_ratio_expression(),
        output_field=models.DecimalField(max_digits=24, decimal_places=6, null=True),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(credit__gte=0), name="balance_credit_not_negative"),
            models.CheckConstraint(condition=Q(used__gte=0), name="balance_used_not_negative"),
        ]
        indexes = [
            models.Index(fields=["reseller", "available", "customer"], name="balance_reseller_available"),
            models.Index(fields=["reseller", "usage_band"], name="balance_reseller_band"),
            models.Index(fields=["reseller", "credit", "customer"], name="balance_reseller_credit"),
            models.Index(fields=["reseller", "used", "customer"], name="balance_reseller_used"),
            models.Index(fields=["reseller", "used_ratio", "customer"], name="balance_reseller_used_ratio"),
            # The alert sweep walks only customers past a default threshold, in id order.
            models.Index(fields=["reseller", "customer"], condition=Q(usage_band__gt=0), name="balance_alertable"),
        ]

    def __str__(self) -> str:
        return f"balance of customer {self.customer_id}"

    @property
    def repossessable(self) -> Decimal:
        return max(self.credit - self.used, ZERO)
