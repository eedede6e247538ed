"""The Tencent Cloud API 3.0 response envelope.

Success: {"Response": {...fields..., "RequestId": "<uuid>"}}
Error:   {"Response": {"Error": {"Code": "...", "Message": "..."}, "RequestId": "<uuid>"}}

Both are HTTP 200 with Content-Type exactly `application/json`: the SDK treats any other status as
a network error and only looks for "Error" when the content type is exactly that."""

import json
import uuid
from decimal import Decimal

from django.http import HttpResponse

from core.errors import DomainError

CONTENT_TYPE = "application/json"


class ApiError(DomainError):
    """An error answered in the envelope; `code` is a Tencent error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)


def new_request_id() -> str:
    return str(uuid.uuid4())


def money(value: Decimal) -> float:
    """A 2-place Decimal as a JSON number. repr(float) is the shortest text that round-trips, so
    Decimal("1234.50") goes out as 1234.5 and every cent below 2**53 survives exactly."""
    return float(value)


def _response(payload: dict) -> HttpResponse:
    return as_response(json.dumps({"Response": payload}, ensure_ascii=False, separators=(",", ":")))


def as_response(body: str) -> HttpResponse:
    """An envelope already serialised: every answer goes out through here, and a write's first
    answer is stored as this text and sent again, byte for byte, to a replay of its signature."""
    response = HttpResponse(body.encode(), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def success(data: dict, request_id: str) -> HttpResponse:
    return _response({**data, "RequestId": request_id})


def failure(code: str, message: str, request_id: str) -> HttpResponse:
    return _response({"Error": {"Code": code, "Message": message}, "RequestId": request_id})
