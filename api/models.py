from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A SecretId / SecretKey pair that signs API requests on behalf of its user.

    The SecretKey is needed in clear to check TC3-HMAC-SHA256 signatures, so it cannot be hashed:
    it is stored Fernet-encrypted (api.crypto) and shown to its owner once, at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    secret_id = models.CharField(_("SecretId"), max_length=64, unique=True)
    secret_key_encrypted = models.TextField("SecretKey (encrypted)")
    description = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(secret_key_encrypted=""), name="api_key_secret_present"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_key_user_created")]

    def __str__(self) -> str:
        return self.secret_id


class SignedRequest(models.Model):
    """A request signature seen within the replay window, with the action it named.

    Only the signature proves who sent a request; X-TC-Action travels outside it (the SDK signs
    content-type and host only), so a captured request could be re-sent under another action. A
    write acts only on a signature never seen before, and its row, holding its first answer, is
    committed in the same transaction as the write: the same signature never acts twice (DESIGN §5),
    and a signature first seen with a read never becomes a write. The primary key makes two racing
    twins queue behind each other."""

    signature = models.CharField(max_length=64, primary_key=True)
    action = models.CharField(max_length=128, blank=True)
    # X-TC-Timestamp: the signature is accepted only within the window around it, so the row is
    # needed only that long (api.tasks.signed_requests_expire deletes it afterwards).
    signed_at = models.DateTimeField(db_index=True)
    # The first answer of a write (the envelope's JSON), returned again to a replay; null for reads
    # (a read has no answer to replay, which "" would not say).
    answer = models.TextField(null=True, blank=True)  # noqa: DJ001

    def __str__(self) -> str:
        return f"{self.action} {self.signature[:12]}…"
