"""Writes for API keys."""

import secrets
import string
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import InvalidValue, NotPermitted
from core.statements import PreparedStatement
from customers.models import CustomerLogin, Member

from .crypto import encrypt_secret
from .envelope import ApiError
from .models import ApiKey, SignedRequest
from .signing import MAX_SKEW_SECONDS

KEYS_PER_USER = 10
DESCRIPTION_MAX = 100
# last_used_at is written at most once a minute per key, so that a busy key does not turn every
# read request into a write on one hot row.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_ALPHABET = string.ascii_letters + string.digits
# A signature stays acceptable until MAX_SKEW_SECONDS after its X-TC-Timestamp; its row is kept as
# long again, so that web and beat machines whose clocks differ by less than that still agree.
SIGNED_REQUEST_KEPT = timedelta(seconds=2 * MAX_SKEW_SECONDS)
ACTION_NAME_MAX = SignedRequest._meta.get_field("action").max_length


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
    """Create a key for a reseller member, or for a bound customer's login (its key calls only the
    customer actions: api.endpoint), and return it with its SecretKey, which is stored only
    encrypted and is never readable again through the console."""
    member = getattr(user, "member", None)
    # Read again, not from the user's cache: the login gets its customer when the reseller approves.
    login = None if member is not None else CustomerLogin.objects.filter(user=user, customer__isnull=False).first()
    if member is None and login is None:
        raise NotPermitted(f"{user.get_username()} is not a member of a reseller nor a bound customer; "
                           "only they can hold API keys.")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidValue(
            gettext("The description can be at most %(max)s characters.") % {"max": DESCRIPTION_MAX}, field="description"
        )
    with transaction.atomic():
        # Lock the member's (or the customer login's) row so that two concurrent creations cannot
        # both pass the count.
        if member is not None:
            Member.objects.select_for_update().filter(pk=member.pk).exists()
        else:
            CustomerLogin.objects.select_for_update().filter(pk=login.pk).exists()
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
        raise NotPermitted(gettext("You can manage only your own API keys."))
    ApiKey.objects.filter(pk=key.pk).update(enabled=enabled)
    key.enabled = enabled
    return key


def api_key_delete(*, key: ApiKey, actor) -> None:
    """Delete a key for good. Allocation records keep its SecretId in their operator name."""
    if not _can_manage(actor, key):
        raise NotPermitted(gettext("You can manage only your own API keys."))
    ApiKey.objects.filter(pk=key.pk).delete()


def api_key_mark_used(*, key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now


# The claim and the answer are sent on every write, the claim on every request: prepared once per
# database connection (core.statements).
_CLAIM = PreparedStatement(
    f"INSERT INTO {SignedRequest._meta.db_table} (signature, action, signed_at, answer) VALUES (%s, %s, %s, NULL) "
    "ON CONFLICT (signature) DO NOTHING RETURNING signature"
)


def signature_claim(*, signature: str, action: str, writes: bool, signed_at: datetime) -> str | None:
    """Record a proven signature the first time it is seen, with the action it names, and return
    None. Seen before, a write gets the first answer stored for it, so that it never acts twice.

    Refused: a write whose signature was seen with any other action, and a read whose signature
    was seen with a write. So a captured request can never be re-sent as a write, nor a write as
    anything else. Reads may share a signature: the SDK signs neither the action nor a nonce, so
    two reads with the same parameters in the same second (an empty body, say) sign identically.

    A write calls this inside the transaction that performs it and records its answer
    (signature_answer_record): a twin racing it waits on the primary key until that transaction
    ends, then finds the answer. A write's row therefore always holds an answer; a read's never."""
    # Only known actions act, and their names are far shorter than the column, so a longer
    # (unknown) name may be cut without two different known actions ever comparing equal.
    action = action[:ACTION_NAME_MAX]
    # One statement, with no savepoint around it: the row is inserted, or (a twin's row, waited for
    # until its transaction ended) not, and then read as that twin left it.
    with connection.cursor() as cursor:
        _CLAIM.execute(cursor, [signature, action, signed_at])
        if cursor.fetchone() is not None:
            return None
    first = SignedRequest.objects.get(signature=signature)
    first_wrote = first.answer is not None
    if writes and first_wrote and first.action == action:
        return first.answer
    if writes or first_wrote:
        raise ApiError(
            "AuthFailure.SignatureFailure",
            gettext(
                "This signature was already used for the action {first}; a signature that writes is good for one "
                "action only. Sign a new request for {action}."
            ).format(first=first.action or "(none)", action=action or "(none)"),
        )
    return None


_ANSWER = PreparedStatement(f"UPDATE {SignedRequest._meta.db_table} SET answer = %s WHERE signature = %s")


def signature_answer_record(*, signature: str, answer: str) -> None:
    """Store a write's first answer; the caller commits it in the same transaction as the write."""
    with connection.cursor() as cursor:
        _ANSWER.execute(cursor, [answer, signature])


def signed_requests_expire(*, now: datetime | None = None) -> int:
    """Forget signatures whose window has passed: X-TC-Timestamp alone now refuses them."""
    cutoff = (now or timezone.now()) - SIGNED_REQUEST_KEPT
    deleted, _ = SignedRequest.objects.filter(signed_at__lt=cutoff).delete()
    return deleted
