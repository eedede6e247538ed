"""The API reference page, generated from the action declarations so that it cannot drift."""

import json
from functools import lru_cache

from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import get_language, gettext, gettext_lazy as _, ngettext

from . import ratelimit
from .actions import ACTIONS, VERSION, Action
from .params import Param

COMMON_ERRORS = (
    ("AuthFailure.InvalidAuthorization", _("the Authorization header is missing or malformed, or the payload is unsigned")),
    ("AuthFailure.SignatureExpire", _("X-TC-Timestamp is more than 5 minutes from the server's clock")),
    ("AuthFailure.SecretIdNotFound", _("the SecretId does not exist or the key is disabled")),
    ("AuthFailure.SignatureFailure", _("the signature does not match the request, or it was already seen with another "
                                       "X-TC-Action and one of the two is a write")),
    ("NoSuchVersion", format_lazy(_("X-TC-Version is not {version}"), version=VERSION)),
    ("InvalidAction", _("X-TC-Action names no action")),
    ("MissingParameter", _("a required parameter is absent")),
    ("UnknownParameter", _("a parameter the action does not define was sent")),
    ("InvalidParameter", _("a parameter has the wrong JSON type, the body is not a JSON object, or the request was "
                           "refused before the API read it (a Host header this server does not serve)")),
    ("InvalidParameterValue", _("a string holds a NUL character (\\u0000) or a lone surrogate, or a number is "
                                "longer than 40 characters or has an exponent beyond ±40")),
    ("RequestLimitExceeded", _("too many requests per second for this action from your account (all its keys "
                               "count together)")),
    ("UnsupportedProtocol", _("the request's method is not POST")),
    ("UnsupportedOperation", _("the request was sent to an address under /api/ other than /api/ itself")),
    ("InternalError", _("an unexpected failure; quote the RequestId")),
)

_PRELUDE = """from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.intlpartnersmgt.v20220928 import intlpartnersmgt_client, models

cred = credential.Credential("<SecretId>", "<SecretKey>")
profile = ClientProfile(httpProfile=HttpProfile(protocol="{protocol}", endpoint="{endpoint}"))
client = intlpartnersmgt_client.IntlpartnersmgtClient(cred, "", profile)
"""


def _flatten(params: tuple[Param, ...], prefix: str = "") -> list[dict]:
    rows = []
    for param in params:
        rows.append(
            {
                "name": prefix + param.name,
                "type": param.type_label,
                "required": param.required,
                "limits": param.limits,
                "default": "" if param.default in (None, "") else param.default,
                "doc": param.doc,
            }
        )
        if param.items:
            rows.extend(_flatten(param.items, prefix=f"{prefix}{param.name}.N."))
    return rows


def _example(action: Action) -> str:
    values = action.example or {}
    model_fields = {key: value for key, value in values.items() if key != "ClientToken"}
    if action.sdk_request:
        lines = [f"req = models.{action.sdk_request}()"]
        lines += [f"req.{key} = {json.dumps(value)}" for key, value in model_fields.items()]
        lines += [f"resp = client.{action.name}(req)", "print(resp.to_json_string())"]
        if any(param.name == "ClientToken" for param in action.params):
            lines += [
                "",
                "# " + gettext("ClientToken is not in the SDK's model; send it with call_json to make retries safe:"),
                f"resp = client.call_json({action.name!r}, {json.dumps({**model_fields, 'ClientToken': 'order-8812'})})",
            ]
    else:
        lines = [
            "# " + gettext("Not in the SDK's models: call_json signs and sends it the same way and returns the "
                           "Response dict."),
            f"resp = client.call_json({action.name!r}, {json.dumps(values, indent=4)})",
            'print(resp["Response"])',
        ]
    return "\n".join(lines)


def _rate_limit(action: Action) -> str:
    limit = ratelimit.limit_for(credit_action=action.credit)
    if limit <= 0:
        return gettext("Not rate-limited.")
    return ngettext(
        "At most %(limit)d request per second from your account, all its API keys together.",
        "At most %(limit)d requests per second from your account, all its API keys together.",
        limit,
    ) % {"limit": limit}


def reference_html(request) -> SafeString:
    """The reference's content (templates/api/_reference.html), the same for every member who reads it in
    one language at one address: rendered once per process for each language, address, rate limits and
    script prefix (about 770 translated texts: the declarations' explanations are lazy and read in the request's
    language here, several times a console page's own work), then reused."""
    limits = (ratelimit.limit_for(credit_action=True), ratelimit.limit_for(credit_action=False))
    return _reference_html(get_language(), "https" if request.is_secure() else "http", request.get_host(), limits,
                           get_script_prefix())


@lru_cache(maxsize=64)
def _reference_html(language: str, protocol: str, endpoint: str, limits: tuple, script_prefix: str) -> SafeString:
    return render_to_string("api/_reference.html", reference(protocol=protocol, endpoint=endpoint))


def reference(*, protocol: str, endpoint: str) -> dict:
    return {
        "version": VERSION,
        "endpoint": endpoint,
        "protocol": protocol,
        "prelude": _PRELUDE.format(protocol=protocol, endpoint=endpoint),
        "common_errors": COMMON_ERRORS,
        "actions": [
            {
                "name": action.name,
                "summary": action.summary,
                "params": _flatten(action.params),
                "response": action.response,
                "errors": action.errors,
                "writes": action.writes,
                "credit": action.credit,
                "rate_limit": _rate_limit(action),
                "example": _example(action),
            }
            for action in ACTIONS.values()
        ],
    }
