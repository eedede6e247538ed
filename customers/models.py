from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Floor, Round
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from core.rules import BURN_RATE_DAYS, FULL, THRESHOLDS
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


@deconstructible(path="customers.models.Quotient")
class Quotient(models.Func):
    """dividend / divisor, the same SQL as F(...) / F(...) on PostgreSQL. On SQLite (make run), whose
    NUMERIC columns keep whole amounts as integers, the dividend is cast to REAL first: SQLite
    divides two integers as integers (used 500 / credit 1000 is 0 there, not 0.5)."""

    arg_joiner = " / "
    template = "(%(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra_context):
        dividend, divisor = self.get_source_expressions()
        dividend_sql, dividend_params = compiler.compile(dividend)
        divisor_sql, divisor_params = compiler.compile(divisor)
        return f"(CAST({dividend_sql} AS REAL) / {divisor_sql})", (*dividend_params, *divisor_params)


def used_ratio_expression() -> Case:
    """used / credit, the order of core.rules.used_percent, for sorting My Customers by Used %:
    stored and indexed. Credit 0 with usage ("over 100%") is NULL, which PostgreSQL sorts above
    every ratio in both directions (NULLS LAST ascending, NULLS FIRST descending, as its index
    does); credit 0 with nothing used shows no percentage and sorts as 0."""
    return Case(
        When(credit__gt=0, then=Quotient(F("used"), F("credit"))),
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


class AccountStatus(models.TextChoices):
    """A customer's account status (DESIGN §4), from its balance row: CustomerBalance.status."""

    NORMAL = "normal", _("Normal")
    OVERDUE = "overdue", _("Overdue")
    FROZEN = "frozen", _("Frozen")
    SUSPENDED = "suspended", _("Suspended")
    DATA_DELETED = "deleted", _("Data deleted")


# Pay-as-you-go data of a suspended customer is kept this long from the suspension (DESIGN §4).
SUSPENSION_RETENTION = timedelta(days=15)


def account_status_expression() -> Case:
    """The account status, most severe first: data deleted, suspended, frozen, overdue (available
    below zero), else normal. Stored (CustomerBalance.status), so that the filter and the Overview's
    counts read an index. account_status_of is the same rule for values a service holds."""
    return Case(
        When(data_deleted_at__isnull=False, then=Value(AccountStatus.DATA_DELETED.value)),
        When(suspended_at__isnull=False, then=Value(AccountStatus.SUSPENDED.value)),
        When(frozen=True, then=Value(AccountStatus.FROZEN.value)),
        When(credit__lt=F("used"), then=Value(AccountStatus.OVERDUE.value)),
        default=Value(AccountStatus.NORMAL.value),
        output_field=models.CharField(max_length=16),
    )


def account_status_of(*, frozen: bool, suspended_at, data_deleted_at, available: Decimal) -> str:
    """account_status_expression for values in hand (a balance before the statement that changed
    it); tests/customers/test_account_status.py holds the two to the same answers."""
    if data_deleted_at is not None:
        return AccountStatus.DATA_DELETED.value
    if suspended_at is not None:
        return AccountStatus.SUSPENDED.value
    if frozen:
        return AccountStatus.FROZEN.value
    if available < 0:
        return AccountStatus.OVERDUE.value
    return AccountStatus.NORMAL.value


def days_to_zero_expression() -> Case:
    """Days until available credit reaches zero at the burn rate (DESIGN §8): none (NULL) when the
    customer spends nothing, 0 when available is already ≤ 0, else available / burn rate rounded
    down to whole days. Stored and indexed (it is My Customers' sort and filter); like usage_band, a
    change here shows up as a migration."""
    return Case(
        When(Q(burn_rate__lte=0), then=Value(None)),
        When(Q(used__gte=F("credit")), then=Value(0)),
        default=Floor((F("credit") - F("used")) / F("burn_rate")),
        output_field=models.DecimalField(max_digits=24, decimal_places=0),
    )


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
    # Tencent's customer service suspension rule applies to this reseller's customers (the platform
    # admin puts it on the allowlist): a frozen or overdue customer's pay-as-you-go services are
    # suspended at once and its data deleted after SUSPENSION_RETENTION (DESIGN §4).
    suspension_allowlisted = models.BooleanField(
        _("on the suspension-rule allowlist"), default=False, db_default=False,
        help_text=_("Frozen or overdue customers of this reseller are suspended (unless non-stop)."),
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

    AccountStatus = AccountStatus

    uin = models.BigIntegerField(_("UIN"), unique=True)
    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    remark = models.CharField(max_length=255, blank=True)
    bound_at = models.DateTimeField(_("binding time"), default=timezone.now)
    identity_type = models.CharField(max_length=16, choices=IdentityType.choices, default=IdentityType.ENTERPRISE)
    # Granted by the platform admin: never suspended, whatever its credit or freeze (DESIGN §4).
    non_stop = models.BooleanField(
        _("non-stop privilege"), default=False, db_default=False,
        help_text=_("Pay-as-you-go services keep running when the customer is frozen or overdue."),
    )
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
    # What the customer itself chose in its portal (Notification settings): a message reaches it on a
    # channel only when its own switch, the reseller's per-customer switch above and the reseller-wide
    # switch all allow it.
    wants_email = models.BooleanField(_("customer's own choice: e-mail"), default=True, db_default=True)
    wants_sms = models.BooleanField(_("customer's own choice: SMS"), default=True, db_default=True)
    wants_inbox = models.BooleanField(_("customer's own choice: Message Center"), default=True, db_default=True)
    # The customer's own credit notification (DESIGN §3): tell the customer alone, once a day, when
    # available drops below this % of its credit.
    credit_notification_percent = models.PositiveSmallIntegerField(null=True, blank=True)

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
            models.CheckConstraint(
                condition=Q(credit_notification_percent__isnull=True)
                | (Q(credit_notification_percent__gte=0) & Q(credit_notification_percent__lte=100)),
                name="customer_credit_notification_0_100",
            ),
        ]
        indexes = [
            models.Index(fields=["reseller", "-bound_at", "-id"], name="customer_reseller_bound"),
            models.Index(fields=["reseller", "name"], name="customer_reseller_name"),
            # My Customers sorts by these too (issue 14): each sort walks an index, never sorts them all.
            # (Account status sorts by the balance's status: balance_reseller_status.)
            models.Index(fields=["reseller", "remark", "id"], name="customer_reseller_remark"),
            models.Index(fields=["reseller", "email", "id"], name="customer_reseller_email"),
            # The alert sweep walks customers with a custom warning in id order (keyset batches);
            # those past a default threshold come from the balance table's balance_alertable.
            models.Index(
                fields=["reseller", "id"],
                condition=Q(custom_warning_percent__isnull=False),
                name="customer_custom_warning",
            ),
            # ... and those with their own credit notification.
            models.Index(
                fields=["reseller", "id"],
                condition=Q(credit_notification_percent__isnull=False),
                name="customer_credit_notification",
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
    def days_to_zero(self) -> Decimal | None:
        return self.balance.days_to_zero

    @property
    def repossessable(self) -> Decimal:
        return self.balance.repossessable

    @property
    def account_status(self) -> str:
        return self.balance.status

    def get_account_status_display(self) -> str:
        return AccountStatus(self.balance.status).label

    @property
    def frozen(self) -> bool:
        return self.balance.frozen

    @property
    def suspended_at(self):
        return self.balance.suspended_at

    @property
    def deletion_at(self):
        """When a suspended customer's pay-as-you-go data is deleted (None unless suspended)."""
        return self.balance.deletion_at

    @property
    def days_until_deletion(self) -> int | None:
        """Whole days, rounded up, until the data deletion of a suspended customer (0 when due)."""
        return days_until(self.deletion_at)


def deletion_at_of(status: str, suspended_at):
    """When a customer's pay-as-you-go data is deleted: SUSPENSION_RETENTION after its suspension,
    None unless it is suspended (CustomerBalance.deletion_at, and a row of My Customers)."""
    if status != AccountStatus.SUSPENDED or suspended_at is None:
        return None
    return suspended_at + SUSPENSION_RETENTION


def days_until(at) -> int | None:
    """Whole days, rounded up, until `at` (0 when it has passed; None for no time)."""
    if at is None:
        return None
    seconds = (at - timezone.now()).total_seconds()
    return max(0, -int(-seconds // 86400))


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

    # Service state (DESIGN §4), here so that the balance row's lock covers it: frozen by the
    # reseller; suspended (its pay-as-you-go services stopped) since; the last deletion notice sent
    # (days before the deadline: 15 at suspension, then 7, 1, and 0 when the data was deleted);
    # data deleted at. Only notifications.services.status changes them.
    frozen = models.BooleanField(default=False, db_default=False)
    suspended_at = models.DateTimeField(null=True, blank=True)
    deletion_notice = models.PositiveSmallIntegerField(default=0, db_default=0)
    data_deleted_at = models.DateTimeField(null=True, blank=True)
    # What the last overdue / resumed event said (True: overdue). Set with the event, in the same
    # transaction; a balance changed outside the services (SQL, the admin) disagrees with it, and
    # the sweep (notifications.services.status.overdue_sweep) finds it through balance_overdue_drift.
    overdue_recorded = models.BooleanField(default=False, db_default=False)
    status = models.GeneratedField(
        expression=account_status_expression(),
        output_field=models.CharField(max_length=16, choices=AccountStatus.choices),
        db_persist=True,
    )

    # Average daily spend over the last 7 days (today and the 6 before, in the reseller's time
    # zone), from the daily rollups: set by each usage batch for its customers and by beat after
    # midnight (credits.services.burn_rates_refresh). 4 decimals, so that a cent a week still counts.
    burn_rate = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal("0"), db_default=Decimal("0"))
    # The sum burn_rate averages (burn_rate = ROUND(burn_sum / 7, 4)) and the last day of its window:
    # while the window is still today's, a usage batch adds its charges in the window to burn_sum
    # instead of reading the customer's 7 days of rollups again (credits.services._BATCH_APPLY_PG).
    # NULL day: not counted yet (the next batch or refresh counts it from the rollups).
    burn_sum = models.DecimalField(max_digits=17, decimal_places=2, default=Decimal("0"), db_default=Decimal("0"))
    burn_day = models.DateField(null=True, blank=True)
    days_to_zero = models.GeneratedField(
        expression=days_to_zero_expression(),
        output_field=models.DecimalField(max_digits=24, decimal_places=0),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(data_deleted_at__isnull=True) | Q(suspended_at__isnull=False),
                name="balance_deleted_was_suspended",
            ),
            models.CheckConstraint(
                condition=Q(suspended_at__isnull=False) | Q(deletion_notice=0), name="balance_notice_needs_suspension",
            ),
            models.CheckConstraint(condition=Q(credit__gte=0), name="balance_credit_not_negative"),
            models.CheckConstraint(condition=Q(used__gte=0), name="balance_used_not_negative"),
            models.CheckConstraint(condition=Q(burn_rate__gte=0), name="balance_burn_rate_not_negative"),
            # A counted window's burn rate is its sum over the window's days, rounded to 4 places, as
            # credits.services writes the two together (_BURN_RATE_SET, _BATCH_APPLY_PG).
            models.CheckConstraint(
                condition=Q(burn_day__isnull=True) | Q(burn_rate=Round(
                    Quotient(F("burn_sum"), Value(BURN_RATE_DAYS), output_field=models.DecimalField()), 4)),
                name="balance_burn_rate_is_its_sum_averaged",
            ),
        ]
        indexes = [
            models.Index(fields=["reseller", "available", "customer"], name="balance_reseller_available"),
            models.Index(fields=["reseller", "usage_band"], name="balance_reseller_band"),
            models.Index(fields=["reseller", "credit", "customer"], name="balance_reseller_credit"),
            models.Index(fields=["reseller", "used", "customer"], name="balance_reseller_used"),
            models.Index(fields=["reseller", "used_ratio", "customer"], name="balance_reseller_used_ratio"),
            models.Index(fields=["reseller", "days_to_zero", "customer"], name="balance_reseller_days_to_zero"),
            # The Overview's top spenders over 7 days: the highest burn rates.
            models.Index(fields=["reseller", "burn_rate", "customer"], name="balance_reseller_burn_rate"),
            # The alert sweep walks only customers past a default threshold, in id order.
            models.Index(fields=["reseller", "customer"], condition=Q(usage_band__gt=0), name="balance_alertable"),
            # The status filter, the Overview's counts and My Customers sorted by account status.
            models.Index(fields=["reseller", "status", "customer"], name="balance_reseller_status"),
            # Balances whose overdue state differs from the last event (normally none).
            models.Index(fields=["customer"], name="balance_overdue_drift",
                         condition=(Q(credit__lt=F("used")) & Q(overdue_recorded=False))
                         | (Q(credit__gte=F("used")) & Q(overdue_recorded=True))),
            # The deadline job walks only suspended customers.
            models.Index(fields=["suspended_at"], condition=Q(suspended_at__isnull=False), name="balance_suspended"),
        ]

    def __str__(self) -> str:
        return f"balance of customer {self.customer_id}"

    @property
    def repossessable(self) -> Decimal:
        return max(self.credit - self.used, ZERO)

    @property
    def deletion_at(self):
        return deletion_at_of(self.status, self.suspended_at)


class StatusEvent(models.Model):
    """One transition of a customer's account status (DESIGN §4), immutable: the timeline on the
    customer page and the notices of the Message Center come from these. Written only by
    notifications.services.status, in the transaction of the change."""

    class Kind(models.TextChoices):
        OVERDUE = "overdue", _("Overdue")
        RESUMED = "resumed", _("Resumed")
        FROZEN = "frozen", _("Frozen")
        UNFROZEN = "unfrozen", _("Unfrozen")
        SUSPENDED = "suspended", _("Suspended")
        DELETION_7_DAYS = "deletion_7d", _("Data deletion in 7 days")
        DELETION_1_DAY = "deletion_1d", _("Data deletion in 1 day")
        DATA_DELETED = "deleted", _("Data deleted")

    class Cause(models.TextChoices):
        USAGE = "usage", _("Usage charge")
        ALLOCATION = "allocation", _("Credit allocation")
        REPAYMENT = "repayment", _("Repayment")
        CONSOLE = "console", _("Console")
        SWEEP = "sweep", _("Status sweep")
        API = "api", _("API")
        DEADLINE = "deadline", _("Data retention deadline")

    reseller = models.ForeignKey(Reseller, on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="status_events", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=16, choices=AccountStatus.choices)
    to_status = models.CharField(max_length=16, choices=AccountStatus.choices)
    cause = models.CharField(max_length=16, choices=Cause.choices)
    # PROTECT, as for allocation records: an event is never rewritten (the database refuses it).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    available = models.DecimalField(max_digits=17, decimal_places=2)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at", "-id"], name="status_event_customer_time")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} at {self.created_at:%Y-%m-%d %H:%M}"

    def sentence(self, *, for_customer: bool = False) -> str:
        """What happened, in one sentence: the notices' subject, SMS and Message Center title."""
        names = {"name": self.customer.name, "uin": self.customer.uin}
        texts = _EVENT_SENTENCES_CUSTOMER if for_customer else _EVENT_SENTENCES
        return str(texts[self.kind]) % names


_EVENT_SENTENCES = {
    "overdue": _("%(name)s (UIN %(uin)s) is overdue: its available credit is below zero"),
    "resumed": _("%(name)s (UIN %(uin)s) is no longer overdue: its available credit is back to zero or more"),
    "frozen": _("%(name)s (UIN %(uin)s) was frozen: it cannot make new purchases"),
    "unfrozen": _("%(name)s (UIN %(uin)s) was unfrozen"),
    "suspended": _("%(name)s (UIN %(uin)s): pay-as-you-go services suspended; data is kept 15 days"),
    "deletion_7d": _("%(name)s (UIN %(uin)s): pay-as-you-go data will be deleted in 7 days"),
    "deletion_1d": _("%(name)s (UIN %(uin)s): pay-as-you-go data will be deleted in 1 day"),
    "deleted": _("%(name)s (UIN %(uin)s): pay-as-you-go data was deleted"),
}
_EVENT_SENTENCES_CUSTOMER = {
    "overdue": _("Your account %(name)s (UIN %(uin)s) is overdue: its available credit is below zero"),
    "resumed": _("Your account %(name)s (UIN %(uin)s) is no longer overdue"),
    "frozen": _("Your account %(name)s (UIN %(uin)s) was frozen: new purchases are not possible"),
    "unfrozen": _("Your account %(name)s (UIN %(uin)s) was unfrozen"),
    "suspended": _("Your account %(name)s (UIN %(uin)s): pay-as-you-go services suspended; data is kept 15 days"),
    "deletion_7d": _("Your account %(name)s (UIN %(uin)s): pay-as-you-go data will be deleted in 7 days"),
    "deletion_1d": _("Your account %(name)s (UIN %(uin)s): pay-as-you-go data will be deleted in 1 day"),
    "deleted": _("Your account %(name)s (UIN %(uin)s): pay-as-you-go data was deleted"),
}



def invitation_default_expiry():
    return timezone.now() + settings.INVITATION_VALID_FOR


class Invitation(models.Model):
    """An invitation e-mailed to a prospective customer (DESIGN §7). The link carries a random token;
    only its SHA-256 digest is stored, so the table never holds a usable link. Used once: the
    registration it leads to is its application."""

    class Role(models.TextChoices):
        CLIENT = "client", _("Customer")

    class Status(models.TextChoices):
        UNUSED = "unused", _("Unused")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    reseller = models.ForeignKey(Reseller, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT)
    material_url = models.URLField(max_length=500, blank=True)
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=invitation_default_expiry)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="invitation_expires_after_creation"),
            # A used invitation is never revoked, nor a revoked one used.
            # The target of the application's (invitation, reseller) foreign key (migration 0020).
            models.UniqueConstraint(fields=["id", "reseller"], name="invitation_id_reseller"),
            models.CheckConstraint(condition=Q(used_at__isnull=True) | Q(revoked_at__isnull=True),
                                   name="invitation_used_or_revoked"),
        ]
        indexes = [models.Index(fields=["reseller", "-created_at", "-id"], name="invitation_reseller_time")]

    def __str__(self) -> str:
        return f"invitation to {self.email}"

    def status_at(self, now) -> str:
        if self.used_at is not None:
            return self.Status.USED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.UNUSED

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    def get_status_display(self) -> str:
        return self.Status(self.status).label


class CustomerLogin(models.Model):
    """A customer's sign-in to its portal: a Django user that is never a reseller member. The console
    refuses users that have one (console.access), the portal users that have none. `customer` is
    set when the reseller approves the application; until then the login only sees its status."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_login")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="login")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # The target of the application's (login, customer) foreign key (migration 0020).
            models.UniqueConstraint(fields=["id", "customer"], name="customer_login_id_customer"),
        ]

    def __str__(self) -> str:
        return f"customer login {self.user}"


class Application(models.Model):
    """A registration through an invitation, waiting for the reseller's decision. It holds the UIN
    the customer is given at registration; approval binds a Customer with that UIN (through
    customers.services.customer_create, as the admin's direct creation). A pending or rejected
    application is no Customer, so it is in no customer list and can receive no credit."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    reseller = models.ForeignKey(Reseller, on_delete=models.CASCADE, related_name="applications")
    invitation = models.OneToOneField(Invitation, on_delete=models.PROTECT, related_name="application")
    login = models.OneToOneField(CustomerLogin, on_delete=models.PROTECT, related_name="application")
    uin = models.BigIntegerField("UIN", unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=32)
    identity_type = models.CharField(max_length=16, choices=Customer.IdentityType.choices)
    # The language the applicant registered in (its browser's or its cookie's): the customer's
    # language once approved (its portal, e-mails, SMS and Message Center).
    language = models.CharField(_("language"), max_length=16, choices=language_choices, blank=True, default="",
                                db_default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    applied_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    reject_reason = models.CharField(max_length=500, blank=True)
    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="application")

    class Meta:
        ordering = ["-applied_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(uin__gt=0), name="application_uin_positive"),
            models.CheckConstraint(condition=~Q(name=""), name="application_name_not_empty"),
            models.CheckConstraint(
                condition=(Q(status="pending", decided_at__isnull=True, customer__isnull=True)
                           | Q(status="approved", decided_at__isnull=False, customer__isnull=False)
                           | (Q(status="rejected", decided_at__isnull=False, customer__isnull=True)
                              & ~Q(reject_reason=""))),
                name="application_decision_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["reseller", "-applied_at", "-id"], condition=Q(status="pending"),
                         name="application_pending"),
        ]

    def __str__(self) -> str:
        return f"application of {self.name} ({self.uin})"
