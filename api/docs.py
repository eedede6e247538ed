"""The API reference page, generated from the action declarations so that it cannot drift."""

import json

from .actions import ACTIONS, VERSION, Action
from .params import Param

COMMON_ERRORS = (
    ("AuthFailure.InvalidAuthorization", "the Authorization header is missing or malformed, or the payload is unsigned"),
    ("AuthFailure.SignatureExpire", "X-TC-Timestamp is more than 5 minutes from the server's clock"),
    ("AuthFailure.SecretIdNotFound", "the SecretId does not exist or the key is disabled"),
    ("AuthFailure.SignatureFailure", "the signature does not match the request"),
    ("NoSuchVersion", f"X-TC-Version is not {VERSION}"),
    ("InvalidAction", "X-TC-Action names no action"),
    ("MissingParameter", "a required parameter is absent"),
    ("UnknownParameter", "a parameter the action does not define was sent"),
    ("InvalidParameter", "a parameter has the wrong JSON type, or the body is not a JSON object"),
    ("InvalidParameterValue", "a string holds a NUL character (\\u0000) or a lone surrogate, or a number is longer "
     "than 40 characters or has an exponent beyond ±40"),
    ("RequestLimitExceeded", "too many requests per second for this key and action"),
    ("InternalError", "an unexpected failure; quote the RequestId"),
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
                "# ClientToken is not in the SDK's model; send it with call_json to make retries safe:",
                f"resp = client.call_json({action.name!r}, {json.dumps({**model_fields, 'ClientToken': 'order-8812'})})",
            ]
    else:
        lines = [
            "# Not in the SDK's models: call_json signs and sends it the same way and returns the Response dict.",
            f"resp = client.call_json({action.name!r}, {json.dumps(values, indent=4)})",
            'print(resp["Response"])',
        ]
    return "\n".join(lines)


def reference(request) -> dict:
    protocol = "https" if request.is_secure() else "http"
    return {
        "version": VERSION,
        "endpoint": request.get_host(),
        "protocol": protocol,
        "prelude": _PRELUDE.format(protocol=protocol, endpoint=request.get_host()),
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
                "example": _example(action),
            }
            for action in ACTIONS.values()
        ],
    }
