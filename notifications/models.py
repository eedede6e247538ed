"""Usage alerts (DESIGN §3): one alert per (customer, threshold, day in the reseller's zone), one
outbox delivery per (alert, recipient, channel), and the Message Center inbox."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from core.rules import FULL
from customers.models import Customer, Member, Reseller, StatusEvent


class Alert(models.Model):
    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("Usage threshold")
        CUSTOM = "custom", _("Custom balance warning")
        REARMED = "rearmed", _("Back under a threshold")
        # An account status notice (DESIGN §4): one per status event, through the same outbox.
        STATUS = "status", _("Account status")
        # A notice, not a threshold: the reseller approved the customer's application (threshold 0).
        BOUND = "bound", _("Customer bound")
        # The customer's own credit notification (% of available credit), to the customer alone.
        CREDIT = "credit", _("Customer's credit notification")

    # The unique (customer, kind, threshold, day) key serves "already today"; the partial index of
    # open alerts serves the re-arm, the sweep's included; alert_customer_time a customer's alerts
    # newest first (its page and history: the unique key, partial since status alerts, cannot).
    # No further indexes keeps the sweep's bulk inserts cheap. No foreign-key constraint to the
    # customer or reseller in the database (migrations 0009 and 0012): every alert is inserted by a statement that reads its
    # customer (or the customer's balance) and copies the reseller from it, and no code deletes a
    # customer or moves it to another reseller. The check at commit locked the customer's row for
    # each alert, and locking a row writes it: it doubled the WAL a sweep writes. Django's CASCADE
    # deletes a customer's alerts with it.
    reseller = models.ForeignKey(Reseller, on_delete=models.CASCADE, related_name="alerts", db_index=False,
                                 db_constraint=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="alerts", db_index=False,
                                 db_constraint=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Percent: one of core.rules.THRESHOLDS, or the custom warning's percent of available credit.
    threshold = models.PositiveSmallIntegerField()
    # Calendar day in the reseller's time zone: the unit of "at most one alert a day".
    day = models.DateField()
    # A lower threshold crossed in the same jump as a higher one: recorded, not sent.
    covered = models.BooleanField(default=False)
    # Still above since an earlier day's alert (the daily reminder).
    reminder = models.BooleanField(default=False)
    credit = models.DecimalField(max_digits=16, decimal_places=2)
    used = models.DecimalField(max_digits=16, decimal_places=2)
    available = models.DecimalField(max_digits=17, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the customer went back under this threshold (an allocation raised its credit or a
    # repayment lowered its usage): the next crossing alerts again.
    rearmed_at = models.DateTimeField(null=True, blank=True)
    # The status event a STATUS alert tells of (one alert per event: "once per change").
    status_event = models.OneToOneField(StatusEvent, on_delete=models.CASCADE, null=True, blank=True,
                                        related_name="alert")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "threshold", "day"], condition=~Q(kind="status"),
                                    name="alert_once_per_day"),
            models.CheckConstraint(
                condition=(Q(kind="status") & Q(status_event__isnull=False)) | (~Q(kind="status") & Q(status_event__isnull=True)),
                name="alert_status_has_event"),
            models.CheckConstraint(condition=Q(threshold__lte=100), name="alert_threshold_0_100"),
        ]
        indexes = [
            # Alerts not yet re-armed: the sweep re-arms from these, not from the customers it walks
            # (a customer back under every threshold no longer counts as one that can alert). Kind
            # and threshold let it test "an open threshold above the usage band" in one descent.
            models.Index(
                fields=["reseller", "customer", "kind", "threshold"],
                condition=Q(rearmed_at__isnull=True, kind__in=["threshold", "custom"]),
                name="alert_open",
            ),
            models.Index(fields=["customer", "-created_at", "-id"], name="alert_customer_time"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.threshold}% on {self.day}"

    @property
    def title(self) -> str:
        return self.sentence()

    def sentence(self, *, for_customer: bool = False) -> str:
        """What happened, in one sentence: the e-mail's subject and first line, the SMS, the
        Message Center title and the alert history all say it this way. `for_customer`: addressed
        to the customer itself (only usage thresholds reach customers)."""
        if self.kind == self.Kind.STATUS:
            return self.status_event.sentence(for_customer=for_customer)
        names = {"name": self.customer.name, "uin": self.customer.uin, "threshold": self.threshold}
        if self.kind == self.Kind.CUSTOM:
            text = gettext("Custom balance warning: %(name)s (UIN %(uin)s) has less than %(threshold)s%% of its credit available")
        elif self.kind == self.Kind.CREDIT:
            text = gettext("Your account %(name)s (UIN %(uin)s) has less than %(threshold)s%% of its credit available")
        elif self.kind == self.Kind.BOUND:
            text = gettext("New customer: %(name)s (UIN %(uin)s) is approved and bound to your account")
        elif self.kind == self.Kind.REARMED:
            text = gettext("%(name)s (UIN %(uin)s) is back under %(threshold)s%% of its credit")
        elif self.threshold >= FULL:
            text = (gettext("Your account %(name)s (UIN %(uin)s) has used all of its credit") if for_customer
                    else gettext("%(name)s (UIN %(uin)s) has used all of its credit"))
        else:
            text = (gettext("Your account %(name)s (UIN %(uin)s) has used %(threshold)s%% of its credit") if for_customer
                    else gettext("%(name)s (UIN %(uin)s) has used %(threshold)s%% of its credit"))
        return text % names


class Delivery(models.Model):
    """The outbox: written with the alert, sent by a worker after commit."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        INBOX = "inbox", _("Message Center")

    class Recipient(models.TextChoices):
        CONTACT = "contact", _("Reseller contact")
        MEMBER = "member", _("Reseller member")
        CUSTOMER = "customer", _("Customer")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # The unique (alert, ...) key indexes alert; reseller and customer are the alert's. No
    # foreign-key constraint in the database (migration 0011): a delivery is only ever written by
    # the transaction that inserts its alert (outbox.deliveries_create, from every caller), so no
    # other transaction can delete the alert before its deliveries exist, and Django's CASCADE
    # deletes them with it afterwards. Checking it cost a sweep batch 25,000 deferred checks (row
    # locks on the alerts it had just written) at commit, the largest part of the commit's time.
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries", db_index=False,
                              db_constraint=False)
    recipient_kind = models.CharField(max_length=16, choices=Recipient.choices)
    # Indexed where set (delivery_member): most deliveries go to a contact or a customer.
    member = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                               db_index=False)
    # "contact", "customer" or "member:<id>": with alert and channel, the unit of "sent once".
    recipient_key = models.CharField(max_length=32)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # E-mail address or phone number at the time of the alert; empty for the Message Center.
    address = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_ref = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["alert", "recipient_key", "channel"], name="delivery_once_per_recipient"),
            # One message per alert to an address, however many recipients share it (the contact's
            # address is often a member's too). Written as notifications.services.outbox._ADDRESS_KEY.
            models.UniqueConstraint(
                F("alert"), F("channel"), Lower(Trim("address")),
                condition=Q(channel__in=["email", "sms"]) & ~Q(address=""),
                name="delivery_once_per_address",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="delivery_sent_has_time"
            ),
        ]
        indexes = [
            # The stuck-delivery sweep looks only at unfinished rows.
            models.Index(
                fields=["next_attempt_at"], condition=Q(status__in=["pending", "sending"]), name="delivery_unfinished"
            ),
            # A member's deliveries (deleting a member deletes them). Not the NULL of the contact's and
            # customers' deliveries, four in five of a sweep's: 20,000 index entries a batch of 5,000
            # customers spent nothing on.
            models.Index(fields=["member"], condition=Q(member__isnull=False), name="delivery_member"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address or self.recipient_key} ({self.status})"


class Message(models.Model):
    """A Message Center entry: for one reseller member, or for the customer (its own inbox)."""

    reseller = models.ForeignKey(Reseller, on_delete=models.CASCADE, related_name="messages")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True, related_name="messages")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    # True: in the customer's own Message Center; False: in the member's.
    for_customer = models.BooleanField(default=False)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="messages")
    # One message per inbox delivery, so a repeated send cannot add a second one.
    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="message")
    title = models.CharField(max_length=255)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(for_customer=True, member__isnull=True) | Q(for_customer=False, member__isnull=False),
                name="message_one_inbox",
            )
        ]
        indexes = [
            models.Index(fields=["member", "-created_at", "-id"], name="message_member_time"),
            models.Index(fields=["member"], condition=Q(read_at__isnull=True), name="message_member_unread"),
            models.Index(fields=["customer", "-created_at"], name="message_customer_time"),
            # The customer portal's bell: its own unread messages.
            models.Index(fields=["customer"], condition=Q(for_customer=True, read_at__isnull=True),
                         name="message_customer_unread"),
        ]

    def __str__(self) -> str:
        return self.title
