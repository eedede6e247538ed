"""Writes for API keys."""

import secrets
import string
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Member
from partnercenter.errors import InvalidValue, NotPermitted

from .crypto import encrypt_secret
from .models import ApiKey

KEYS_PER_USER = 10
DESCRIPTION_MAX = 100
# last_used_at is written at most once a minute per key, so that a busy key does not turn every
# read request into a write on one hot row.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_ALPHABET = string.ascii_letters + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _can_manage(actor, key: ApiKey) -> bool:
    """The key's owner, an admin of the owner's reseller, or platform staff allowed to change keys."""
    if actor.pk == key.user_id or (actor.is_staff and actor.has_perm("api.change_apikey")):
        return True
    member = getattr(actor, "member", None)
    owner = getattr(key.user, "member", None)
    return (
        member is not None
        and owner is not None
        and member.role == Member.Role.ADMIN
        and member.reseller_id == owner.reseller_id
    )


def api_key_create(*, user, description: str = "") -> tuple[ApiKey, str]:
    """Create a key for a reseller member and return it with its SecretKey, which is stored only
    encrypted and is never readable again through the console."""
    if getattr(user, "member", None) is None:
        raise NotPermitted(f"{user.get_username()} is not a member of a reseller; only members can hold API keys.")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidValue(f"The description can be at most {DESCRIPTION_MAX} characters.", field="description")
    with transaction.atomic():
        # Lock the member row so that two concurrent creations cannot both pass the count.
        Member.objects.select_for_update().filter(pk=user.member.pk).exists()
        if ApiKey.objects.filter(user=user).count() >= KEYS_PER_USER:
            raise InvalidValue(
                f"You already have {KEYS_PER_USER} API keys; delete one you no longer use first.",
                code="LimitExceeded.ApiKey",
            )
        secret_key = _random(32)
        key = ApiKey.objects.create(
            user=user,
            secret_id="AKID" + _random(32),
            secret_key_encrypted=encrypt_secret(secret_key),
            description=description,
        )
    return key, secret_key


def api_key_set_enabled(*, key: ApiKey, enabled: bool, actor) -> ApiKey:
    """Disable (or re-enable) a key: a disabled key's requests answer AuthFailure.SecretIdNotFound."""
    if not _can_manage(actor, key):
        raise NotPermitted("You can manage only your own API keys.")
    ApiKey.objects.filter(pk=key.pk).update(enabled=enabled)
    key.enabled = enabled
    return key


def api_key_delete(*, key: ApiKey, actor) -> None:
    """Delete a key for good. Allocation records keep its SecretId in their operator name."""
    if not _can_manage(actor, key):
        raise NotPermitted("You can manage only your own API keys.")
    ApiKey.objects.filter(pk=key.pk).delete()


def api_key_mark_used(*, key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now
