"""Encryption at rest for API SecretKeys (Fernet: AES-128-CBC with an HMAC-SHA256 tag).

settings.API_KEY_ENCRYPTION_KEY holds one or more comma-separated Fernet keys: the first encrypts,
every one decrypts, so a key can be rotated by prepending a new one. When it is empty a key is
derived from SECRET_KEY, so a deployment that rotates SECRET_KEY must re-create its API keys."""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    keys = [item.strip() for item in configured.split(",") if item.strip()]
    if not keys:
        digest = hashlib.sha256(b"partnercenter.api.secret-key-encryption:" + secret_key.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "API_KEY_ENCRYPTION_KEY must be comma-separated Fernet keys (Fernet.generate_key())."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(settings.API_KEY_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt_secret(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str | None:
    """The SecretKey, or None if it was encrypted under a key this deployment no longer holds."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None
