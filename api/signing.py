"""TC3-HMAC-SHA256, exactly as the Tencent Cloud SDK computes it (abstract_client._get_tc3_signature).

    CanonicalRequest = Method \n "/" \n QueryString \n CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
    StringToSign     = "TC3-HMAC-SHA256" \n Timestamp \n Date/service/tc3_request \n hex(sha256(CanonicalRequest))
    SecretSigning    = HMAC(HMAC(HMAC("TC3" + SecretKey, Date), service), "tc3_request")
    Signature        = hex(HMAC(SecretSigning, StringToSign))

The server rebuilds the canonical request from the raw body and the headers the client lists in
SignedHeaders, so a client may sign more headers than the SDK does (X-TC-Action, for one)."""

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC

from .envelope import ApiError

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "intlpartnersmgt"
TERMINATOR = "tc3_request"
# API 3.0 fixes the canonical URI to "/" whatever path the request was routed by.
CANONICAL_URI = "/"
REQUIRED_SIGNED_HEADERS = ("content-type", "host")
# A signature is accepted while X-TC-Timestamp is within this many seconds of the server's clock.
MAX_SKEW_SECONDS = 300

_HEADER_NAME = re.compile(r"^[a-z0-9-]+$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Authorization:
    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def _invalid(reason: str) -> ApiError:
    return ApiError(
        "AuthFailure.InvalidAuthorization",
        f"The Authorization header is malformed: {reason}. Expected "
        f"'{ALGORITHM} Credential=<SecretId>/<YYYY-MM-DD>/{SERVICE}/{TERMINATOR}, "
        "SignedHeaders=content-type;host, Signature=<64 hex digits>'.",
    )


def parse_authorization(header: str | None) -> Authorization:
    """Split the Authorization header into its parts or raise AuthFailure.InvalidAuthorization."""
    if not header:
        raise _invalid("it is missing (only TC3-HMAC-SHA256 signatures are accepted)")
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _invalid(f"the algorithm must be {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or name in fields:
            raise _invalid("it must hold Credential, SignedHeaders and Signature once each")
        fields[name] = value.strip()
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise _invalid("it must hold Credential, SignedHeaders and Signature once each")
    credential = fields["Credential"].split("/")
    if len(credential) != 4 or not credential[0]:
        raise _invalid("Credential must be <SecretId>/<date>/<service>/tc3_request")
    secret_id, date, service, terminator = credential
    if not _DATE.match(date):
        raise _invalid("the Credential date must be YYYY-MM-DD")
    if service != SERVICE or terminator != TERMINATOR:
        raise _invalid(f"the Credential scope must be <date>/{SERVICE}/{TERMINATOR}")
    signed_headers = tuple(fields["SignedHeaders"].split(";"))
    if any(not _HEADER_NAME.match(name) for name in signed_headers) or list(signed_headers) != sorted(
        set(signed_headers)
    ):
        raise _invalid("SignedHeaders must be lower-case header names in sorted order, separated by ';'")
    if not set(REQUIRED_SIGNED_HEADERS) <= set(signed_headers):
        raise _invalid("SignedHeaders must include content-type and host")
    signature = fields["Signature"]
    if not _SIGNATURE.match(signature):
        raise _invalid("Signature must be 64 lower-case hex digits")
    return Authorization(secret_id, date, service, signed_headers, signature)


def canonical_request(
    *, method: str, headers: Mapping[str, str], signed_headers: tuple[str, ...], body: bytes, query: str = ""
) -> str:
    """`headers` maps lower-case names to values as received; values are trimmed, as the SDK sends them."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed_headers)
    return "\n".join(
        [method, CANONICAL_URI, query, canonical_headers, ";".join(signed_headers), hashlib.sha256(body).hexdigest()]
    )


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signature(*, secret_key: str, date: str, timestamp: str, canonical: str, service: str = SERVICE) -> str:
    scope = f"{date}/{service}/{TERMINATOR}"
    string_to_sign = "\n".join(
        [ALGORITHM, timestamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
    )
    signing_key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), TERMINATOR)
    return hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def signature_matches(*, auth: Authorization, secret_key: str, method: str, headers: Mapping[str, str],
                      body: bytes, timestamp: str) -> bool:
    """The SDK signs header values as sent; Tencent's written spec lower-cases them. Accept either."""
    variants = [dict(headers)]
    lowered = {name: value.lower() for name, value in headers.items()}
    if lowered != variants[0]:
        variants.append(lowered)
    matched = False
    for variant in variants:
        canonical = canonical_request(method=method, headers=variant, signed_headers=auth.signed_headers, body=body)
        expected = signature(secret_key=secret_key, date=auth.date, timestamp=timestamp, canonical=canonical)
        matched |= hmac.compare_digest(expected, auth.signature)
    return matched


def authorization_header(
    *,
    secret_id: str,
    secret_key: str,
    body: bytes,
    headers: Mapping[str, str],
    timestamp: int,
    signed_headers: tuple[str, ...] = REQUIRED_SIGNED_HEADERS,
) -> str:
    """Sign a request as the SDK does (used by the benchmark's clients and by tests that must craft
    requests the SDK cannot, such as one that also signs X-TC-Action)."""
    from datetime import datetime

    date = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")
    lowered = {name.lower(): value for name, value in headers.items()}
    canonical = canonical_request(method="POST", headers=lowered, signed_headers=signed_headers, body=body)
    sig = signature(secret_key=secret_key, date=date, timestamp=str(timestamp), canonical=canonical)
    return (
        f"{ALGORITHM} Credential={secret_id}/{date}/{SERVICE}/{TERMINATOR}, "
        f"SignedHeaders={';'.join(signed_headers)}, Signature={sig}"
    )
