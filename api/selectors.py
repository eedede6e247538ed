"""Reads for the API and the API Keys pages; every customer read is scoped to one reseller."""

import logging
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache as cache_once

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.inputs import uin_or_none
from core.statements import PreparedStatement
from credits.models import AllocationRecord, CreditPool
from customers.models import Customer, CustomerBalance, Invitation, Member, Reseller

from .models import ApiKey

ZERO = Decimal("0.00")
logger = logging.getLogger(__name__)


def _attnames(model, wanted: set[str]) -> list[str]:
    # Model.from_db takes the loaded fields in the model's own field order.
    return [field.attname for field in model._meta.concrete_fields if field.attname in wanted]


def _column(model, attname: str) -> str:
    return next(field.column for field in model._meta.concrete_fields if field.attname == attname)


@cache_once
def _key_query() -> tuple[PreparedStatement, list]:
    user_model = get_user_model()
    parts = [
        (ApiKey, "k", _attnames(ApiKey, {"id", "secret_id", "secret_key_encrypted", "enabled", "last_used_at", "user_id"})),
        (user_model, "u", _attnames(user_model, {"id", "username", "is_active"})),
        (Member, "m", _attnames(Member, {"id", "user_id", "reseller_id", "role"})),
        (Reseller, "r", _attnames(Reseller, {"id", "name", "uin", "time_zone", "created_at"})),
    ]
    columns = ", ".join(f'{alias}."{_column(model, name)}"' for model, alias, names in parts for name in names)
    sql = (
        f'SELECT {columns} FROM "{ApiKey._meta.db_table}" k '
        f'JOIN "{user_model._meta.db_table}" u ON u."id" = k."user_id" '
        f'LEFT JOIN "{Member._meta.db_table}" m ON m."user_id" = u."id" '
        f'LEFT JOIN "{Reseller._meta.db_table}" r ON r."id" = m."reseller_id" '
        'WHERE k."secret_id" = %s'
    )
    return PreparedStatement(sql), parts


def _aware(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def api_key_for_secret_id(secret_id: str) -> ApiKey | None:
    """The key with its user, membership and reseller (only the fields a request uses), in one query.

    Hand-written because it runs on every API request, where compiling the equivalent four-model
    select_related costs more CPU than running it; prepared (core.statements), as planning the
    join cost the database about as much again."""
    statement, parts = _key_query()
    with connection.cursor() as cursor:
        statement.execute(cursor, [secret_id])
        row = cursor.fetchone()
    if row is None:
        return None
    objects, start = [], 0
    for model, _, names in parts:
        values = list(row[start : start + len(names)])
        start += len(names)
        if connection.vendor == "sqlite":
            # SQLite hands back UTC times as naive datetimes (or text); PostgreSQL's are already aware.
            values = [_aware(v) if n in {"last_used_at", "created_at"} else v for n, v in zip(names, values)]
        objects.append(None if values[0] is None else model.from_db(connection.alias, names, values))
    key, user, member, reseller = objects
    key.user = user
    if member is not None:
        member.reseller = reseller
        user.member = member
    return key


def api_keys_visible_to(user) -> QuerySet[ApiKey]:
    """A member sees their own keys; a reseller admin sees every key of the reseller's members."""
    member = getattr(user, "member", None)
    keys = ApiKey.objects.select_related("user").order_by("-created_at", "-id")
    if member is not None and member.role == Member.Role.ADMIN:
        return keys.filter(user__member__reseller_id=member.reseller_id)
    return keys.filter(user=user)


def partner_credit(reseller: Reseller) -> dict:
    pool = CreditPool.objects.filter(reseller=reseller).first()
    total = pool.total if pool else ZERO
    remaining = pool.remaining if pool else ZERO
    sums = CustomerBalance.objects.filter(reseller=reseller).aggregate(
        credit=Coalesce(Sum("credit"), ZERO), available=Coalesce(Sum("available"), ZERO)
    )
    return {
        "total": total,
        "remaining": remaining,
        "allocated": total - remaining,
        "customer_credit": sums["credit"],
        "customer_available": sums["available"],
    }


CUSTOMER_FILTERS = {
    # FilterType -> how Filter matches. ClientUin is exact; the text fields match a substring.
    "ClientUin": None,
    "Name": "name__icontains",
    "Remark": "remark__icontains",
    "Email": "email__icontains",
}


# How long the number of a reseller's customers may be reused. Counting 100,000 rows costs ~10 ms
# on every page a script walks through; a Total a few seconds behind a new binding does no harm.
CUSTOMER_COUNT_SECONDS = 10


def customer_count(reseller: Reseller) -> int:
    key = f"api:customer-count:{reseller.pk}:{reseller.uin}:{reseller.created_at.timestamp()}"
    try:
        total = cache.get(key)
    except Exception:  # an unreachable cache only costs the count
        logger.warning("customer count not cached: the cache is unavailable", exc_info=True)
        return Customer.objects.filter(reseller=reseller).count()
    if total is None:
        total = Customer.objects.filter(reseller=reseller).count()
        try:
            cache.set(key, total, CUSTOMER_COUNT_SECONDS)
        except Exception:
            logger.warning("customer count not cached: the cache is unavailable", exc_info=True)
    return total


def _page_values(customers, *, column: str, ordering: list[str], offset: int, limit: int, total: int) -> list:
    """`column` of rows [offset, offset + limit) of `customers` in `ordering`, as of `total` rows.

    A page past the middle is read from the other end, so that no page skips more than half the
    reseller's customers. With an unchanged list this is the same page either way; when customers
    were bound since `total` was counted, the page is the one that count describes."""
    if offset >= total:
        return []
    if offset <= total // 2:
        return list(customers.order_by(*ordering).values_list(column, flat=True)[offset : offset + limit])
    end = min(offset + limit, total)
    backwards = [field[1:] if field.startswith("-") else f"-{field}" for field in ordering]
    values = list(customers.order_by(*backwards).values_list(column, flat=True)[total - end : total - offset])
    values.reverse()
    return values


def customers_page(
    reseller: Reseller, *, filter_type: str | None, filter_text: str, page: int, page_size: int, order: str
) -> tuple[int, list[Customer]]:
    """One page of the reseller's customers by binding time, and how many match in all."""
    customers = Customer.objects.filter(reseller=reseller)
    ordering = ["bound_at", "id"] if order == "asc" else ["-bound_at", "-id"]
    offset = (page - 1) * page_size
    if filter_type and filter_text:
        if filter_type == "ClientUin":
            uin = uin_or_none(filter_text)
            customers = customers.filter(uin=uin) if uin is not None else customers.none()
        else:
            customers = customers.filter(**{CUSTOMER_FILTERS[filter_type]: filter_text})
        total = customers.count()
    else:
        total = customer_count(reseller)
    # Deferred join: page through the (reseller, bound_at, id) index for ids only, then fetch the rows.
    ids = _page_values(customers, column="id", ordering=ordering, offset=offset, limit=page_size, total=total)
    rows = list(Customer.objects.filter(id__in=ids).select_related("balance").order_by(*ordering)) if ids else []
    return total, rows


def customers_by_uin(reseller: Reseller, uins: list[int]) -> dict[int, Customer]:
    """The reseller's customers among `uins`; a UIN of another reseller or of nobody is absent."""
    customers = Customer.objects.filter(reseller=reseller, uin__in=set(uins)).select_related("balance")
    return {customer.uin: customer for customer in customers}


_CUSTOMER_ID = PreparedStatement(f'SELECT "id" FROM "{Customer._meta.db_table}" WHERE "reseller_id" = %s AND "uin" = %s')


def customer_id_for_uin(reseller: Reseller, uin: int) -> int | None:
    """The id of the reseller's customer with this UIN. Hand-written and prepared for the same
    reason as api_key_for_secret_id: every allocation request runs it."""
    with connection.cursor() as cursor:
        _CUSTOMER_ID.execute(cursor, [reseller.pk, uin])
        row = cursor.fetchone()
    return row[0] if row else None


def customer_credit_rows(reseller: Reseller):
    """(uin, credit, available) of every customer of the reseller, newest binding first, streamed."""
    return (
        Customer.objects.filter(reseller=reseller)
        .order_by("-bound_at", "-id")
        .values_list("uin", "balance__credit", "balance__available")
        .iterator(chunk_size=5000)
    )


def customer_uins_page(reseller: Reseller, *, page: int, page_size: int) -> tuple[int, list[int]]:
    total = customer_count(reseller)
    uins = _page_values(Customer.objects.filter(reseller=reseller), column="uin", ordering=["-bound_at", "-id"],
                        offset=(page - 1) * page_size, limit=page_size, total=total)
    return total, uins


def allocation_history_page(customer: Customer, *, page: int, page_size: int) -> tuple[int, list[AllocationRecord]]:
    records = AllocationRecord.objects.filter(reseller_id=customer.reseller_id, customer=customer)
    total = records.count()
    offset = (page - 1) * page_size
    return total, list(records.order_by("-created_at", "-id")[offset : offset + page_size])



def invitations_by_digest(reseller: Reseller, digests: list[str]) -> dict[str, Invitation]:
    """The reseller's invitations among these token digests, with their applications and customers."""
    rows = Invitation.objects.filter(reseller=reseller, token_digest__in=digests).select_related(
        "application__customer")
    return {invitation.token_digest: invitation for invitation in rows}
