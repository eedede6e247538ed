"""The Tencent Cloud API 3.0 endpoint: one signed request in, one answer in the envelope out.
partnercenter's root view and api/urls.py route to it; the API's console pages are in views.py."""

import json
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import NamedTuple

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from core.errors import DomainError
from credits.services import AllocationUnfinished

from . import ratelimit, selectors, services, signing
from .actions import ACTIONS, VERSION, Action, Context, customer_actions, run
from .crypto import decrypt_secret
from .envelope import ApiError, as_response, failure, new_request_id, success
from .params import json_decimal, json_int

logger = logging.getLogger(__name__)

MAX_SKEW_SECONDS = signing.MAX_SKEW_SECONDS


TIMESTAMP_DIGITS_MAX = 12


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _authenticate(request, header_auth: signing.Authorization, body: bytes):
    """The enabled key whose SecretKey produced the signature, or the Tencent error saying why not."""
    raw_timestamp = request.headers.get("X-TC-Timestamp")
    if not raw_timestamp:
        raise ApiError("MissingParameter", gettext("The request is missing the X-TC-Timestamp header."))
    # ASCII digits only, and short: str.isdigit() takes "²", which int() refuses, and a Unix time in
    # seconds has 10 digits until the year 2286.
    if not (raw_timestamp.isascii() and raw_timestamp.isdigit() and len(raw_timestamp) <= TIMESTAMP_DIGITS_MAX):
        raise ApiError("InvalidParameter", gettext("X-TC-Timestamp must be a Unix time in seconds."))
    timestamp = int(raw_timestamp)
    now = int(time.time())
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        raise ApiError(
            "AuthFailure.SignatureExpire",
            gettext(
                "The request was signed at {timestamp} but the server time is {now}; a signature is valid for "
                "{minutes} minutes. Check the client's clock."
            ).format(timestamp=timestamp, now=now, minutes=MAX_SKEW_SECONDS // 60),
        )
    signed_date = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")
    if header_auth.date != signed_date:
        raise ApiError(
            "AuthFailure.SignatureFailure",
            gettext("The Credential date {date} is not the UTC date of X-TC-Timestamp ({signed_date}).").format(
                date=header_auth.date, signed_date=signed_date
            ),
        )
    key = selectors.api_key_for_secret_id(header_auth.secret_id)
    secret_key = decrypt_secret(key.secret_key_encrypted) if key is not None else None
    if key is None or not key.enabled or not key.user.is_active or secret_key is None:
        if key is not None and secret_key is None:
            logger.error("API key %s cannot be decrypted with the configured API_KEY_ENCRYPTION_KEY", key.secret_id)
        raise ApiError("AuthFailure.SecretIdNotFound", gettext("The SecretId does not exist or has been disabled."))
    if request.headers.get("X-TC-Content-SHA256", "").upper() == "UNSIGNED-PAYLOAD":
        raise ApiError(
            "AuthFailure.InvalidAuthorization",
            gettext("Unsigned payloads are not accepted: sign the request body (the SDK's default)."),
        )
    headers = {name: request.headers.get(name, "") for name in header_auth.signed_headers}
    if not signing.signature_matches(
        auth=header_auth, secret_key=secret_key, method=request.method, headers=headers, body=body,
        timestamp=raw_timestamp,
    ):
        raise ApiError(
            "AuthFailure.SignatureFailure",
            gettext(
                "The request signature does not match. Check the SecretKey and that the body and signed headers "
                "are sent exactly as signed."
            ),
        )
    return key


def _handle(request, request_id: str):
    header_auth = signing.parse_authorization(request.headers.get("Authorization"))
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise ApiError("InvalidParameter", gettext("The request body is too large.")) from exc
    key = _authenticate(request, header_auth, body)
    services.api_key_mark_used(key=key)

    # The signature is proven, but the SDK signs only content-type and host: X-TC-Action rides
    # outside it. So a write runs at most once per signature, and never on a signature already seen
    # with another action (DESIGN §5; services.signature_claim).
    name = request.headers.get("X-TC-Action", "")
    action = ACTIONS.get(name)
    claim = {
        "signature": header_auth.signature,
        "action": name,
        "writes": action is not None and action.writes,
        "signed_at": datetime.fromtimestamp(int(request.headers["X-TC-Timestamp"]), tz=UTC),
    }
    if claim["writes"]:
        return _write_once(request, key, body, request_id, claim)
    services.signature_claim(**claim)
    return _act(request, key, body, request_id)


def _write_once(request, key, body: bytes, request_id: str, claim: dict):
    """Run a write and store its answer with it, in one transaction; a request with the same
    signature gets that first answer again. A refusal is an answer too: replayed after the reseller
    tops up the pool, a refused allocation must not then allocate, since the client has likely
    retried already with a freshly signed request.

    The first try has no savepoint: the claim, the write and its answer commit together, and an
    allocation is one prepared statement in that transaction (credit_allocate's one_statement).
    Anything raised rolls all of it back, the claim included. The second transaction then claims
    again and stores the answer: the refusal the first try raised, or, for an allocation its one
    statement did not finish, the allocation run again as any write ran before, with a savepoint
    that undoes it if it is refused. A twin that claimed in between is answered with its answer.
    The checks before the write (the rate limit counting this request) are not repeated."""
    checked, answer = None, None
    try:
        with transaction.atomic():
            first = services.signature_claim(**claim)
            if first is not None:
                return as_response(first)
            checked = _checked(request, key, body, request_id)
            response = success(run(checked.action, replace(checked.ctx, first_try=True), checked.data), request_id)
            services.signature_answer_record(signature=claim["signature"], answer=response.content.decode())
        return response
    except AllocationUnfinished:
        pass
    except Exception as exc:
        answer = _failure(exc, request_id)  # every failure is an answer
    with transaction.atomic():
        first = services.signature_claim(**claim)
        if first is not None:
            return as_response(first)
        if answer is None:  # the allocation its one statement did not finish
            answer = _answer(
                request_id, lambda: success(run(checked.action, checked.ctx, checked.data), request_id), savepoint=True
            )
        services.signature_answer_record(signature=claim["signature"], answer=answer.content.decode())
    return answer


class _Checked(NamedTuple):
    action: Action
    ctx: Context
    data: dict


def _act(request, key, body: bytes, request_id: str):
    checked = _checked(request, key, body, request_id)
    return success(run(checked.action, checked.ctx, checked.data), request_id)


def _checked(request, key, body: bytes, request_id: str) -> _Checked:
    """The action, who calls it and its parameters' JSON, or the error that refuses the request
    before the action runs (version, action, key's scope, rate limit, body)."""
    version = request.headers.get("X-TC-Version")
    if not version:
        raise ApiError("MissingParameter", gettext("The request is missing the X-TC-Version header."))
    if version != VERSION:
        raise ApiError(
            "NoSuchVersion",
            gettext("Version {version} does not exist; this service answers {expected}.").format(
                version=version, expected=VERSION
            ),
        )
    name = request.headers.get("X-TC-Action")
    if not name:
        raise ApiError("MissingParameter", gettext("The request is missing the X-TC-Action header."))
    action = ACTIONS.get(name)
    if action is None:
        raise ApiError("InvalidAction", gettext("The action {name} does not exist for version {version}.").format(name=name, version=VERSION))

    member = getattr(key.user, "member", None)
    customer = None
    if member is None:
        # A customer's own key (its portal login's): it may call only the customer actions.
        login = getattr(key.user, "customer_login", None)
        customer = login.customer if login is not None else None
        if customer is None:
            raise ApiError("UnauthorizedOperation",
                           gettext("The key's user is not a member of a reseller nor a bound customer."))
    if action.customer_key and customer is None:
        raise ApiError("UnauthorizedOperation",
                       gettext("{name} answers a customer's own key; this key is a reseller's.").format(name=name))
    if customer is not None and not action.customer_key:
        raise ApiError("UnauthorizedOperation", gettext("A customer's key can call only {actions}; not {name}.").format(
            actions=", ".join(customer_actions()), name=name))
    reseller_id = member.reseller_id if member is not None else customer.reseller_id
    limit = ratelimit.limit_for(credit_action=action.credit)
    if not ratelimit.allow(reseller_id=reseller_id, action=name, limit=limit):
        raise ApiError(
            "RequestLimitExceeded",
            gettext(
                "Too many {action} requests: your account may send {limit} per second, counted across all its "
                "API keys. Slow down and retry."
            ).format(action=name, limit=limit),
        )
    if action.writes and member is not None and not member.can_allocate:
        raise ApiError(
            "UnauthorizedOperation",
            gettext("This key belongs to {user}, a viewer: it can read but not call {name}.").format(
                user=key.user.get_username(), name=name
            ),
        )

    if request.content_type != "application/json":
        raise ApiError("InvalidParameter", gettext("Send the parameters as a JSON body (Content-Type: application/json)."))
    try:
        data = json.loads(body or b"{}", parse_float=json_decimal, parse_int=json_int, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: arrays or objects nested thousands deep, which no request needs.
        raise ApiError("InvalidParameter", gettext("The request body is not valid JSON.")) from exc
    return _Checked(action, Context(key=key, member=member, request_id=request_id, customer=customer), data)


def _answer(request_id: str, act, *, savepoint: bool = False):
    """`act`'s response, or its error in the envelope. With `savepoint`, an error also undoes every
    write `act` made, while the transaction around it stays usable."""
    try:
        if savepoint:
            with transaction.atomic():
                return act()
        return act()
    except Exception as exc:
        return _failure(exc, request_id)


def _failure(exc: Exception, request_id: str):
    """The envelope's answer to `exc`, raised by a request: a refusal says why; anything else is
    logged (call this in the except block, for its traceback) and answered as an internal error."""
    if isinstance(exc, DomainError):
        return failure(exc.code, exc.message, request_id)
    logger.exception("API request %s failed", request_id, exc_info=exc)
    return failure(
        "InternalError",
        gettext("An internal error occurred; nothing was changed by it. Quote RequestId {request_id} to support.").format(
            request_id=request_id
        ),
        request_id,
    )


def is_api_request(request) -> bool:
    """`/api`, anything under `/api/`, and POST `/` (the console never posts to `/`)."""
    if request.path == "/":
        return request.method == "POST"
    return request.path == "/api" or request.path.startswith("/api/")


# X-TC-Language (the SDK's ClientProfile(language=...)): the language of the answer's messages.
API_LANGUAGES = {"zh-cn": "zh-hans", "en-us": "en"}


def api_language(request) -> str:
    """The console language for the request's X-TC-Language: zh-CN answers in Simplified Chinese,
    en-US and anything else (or none) in English, whatever the browser's Accept-Language says."""
    return API_LANGUAGES.get(request.headers.get("X-TC-Language", "").strip().lower(), "en")


@csrf_exempt
def endpoint(request):
    """The Tencent Cloud API 3.0 endpoint (POST /, /api/ and /api). Every answer is HTTP 200 in the
    envelope, errors included, as the SDK expects; its messages in the X-TC-Language."""
    with translation.override(api_language(request)):
        return _endpoint(request)


def _endpoint(request):
    request_id = new_request_id()
    if request.method != "POST":
        response = failure(
            "UnsupportedProtocol",
            gettext("The API accepts only POST requests (this was {method}).").format(method=request.method[:16]),
            request_id,
        )
        response["Allow"] = "POST"
        return response
    return _answer(request_id, lambda: _handle(request, request_id))


def bad_request(request):
    """Django refused the request before any view (a Host header this server does not serve, for
    one); the API still answers in its envelope."""
    with translation.override(api_language(request)):
        return failure(
            "InvalidParameter",
            gettext("The request cannot be served: check the endpoint address (the Host header) and the request's format."),
            new_request_id(),
        )


@csrf_exempt
def unknown_path(request, path: str):
    """Any other address under /api/: an envelope, so that a client never gets an HTML page."""
    with translation.override(api_language(request)):
        return failure(
            "UnsupportedOperation",
            gettext("There is no API at /api/{path}: send POST / or POST /api/.").format(path=path[:100]),
            new_request_id(),
        )
