from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ApiKey(models.Model):
    """A SecretId / SecretKey pair that signs API requests on behalf of its user.

    The SecretKey is needed in clear to check TC3-HMAC-SHA256 signatures, so it cannot be hashed:
    it is stored Fernet-encrypted (api.crypto) and shown to its owner once, at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    secret_id = models.CharField("SecretId", max_length=64, unique=True)
    secret_key_encrypted = models.TextField("SecretKey (encrypted)")
    description = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(secret_key_encrypted=""), name="api_key_secret_present"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_key_user_created")]

    def __str__(self) -> str:
        return self.secret_id
