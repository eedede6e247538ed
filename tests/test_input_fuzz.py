"""Arbitrary strings, numbers and JSON values through every door money comes in by (issue 8): the
console's Allocate Credit form, AllocateCustomerCredit, ReportCustomerUsage and the CSV import.

None may answer 500 or InternalError. A refused input changes nothing: the pools, the customers'
credit and used, the allocation records and the usage charges stay as they were. After an accepted
one the books still balance (check_ledger's conservation, and each customer's used equals its
charges less its repayments).

Counts per door (inputs tried, refused, 500s) are printed at the end (`pytest -s`) and written to
artifacts/fuzz-summary.txt."""

import csv
import io
import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Sum
from django.test import Client
from hypothesis import HealthCheck, given, settings, strategies as st

from api import signing
from api.actions import VERSION
from api.services import api_key_create
from credits.models import AllocationRecord, CreditPool, Repayment, UsageCharge
from credits.selectors import ledger_mismatches
from credits.services import pool_grant
from customers.models import Customer, Member
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
UINS = [880000000001, 880000000002, 880000000003]
STRANGER_UIN = 880000000099  # another reseller's customer
TALLY: dict[str, Counter] = {}
API_CODES: Counter = Counter()  # how the API refused, for the summary
SUMMARY = Path(django_settings.BASE_DIR) / "artifacts" / "fuzz-summary.txt"


# --- what is thrown at the doors --------------------------------------------------------------


class Raw(str):
    """A JSON number literal sent exactly as written (json.dumps would normalise or refuse it)."""


def _full_width(text: str) -> str:
    return text.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})


HOSTILE_NUMBERS = [
    "9" * 30, "9" * 27, "-" + "9" * 27, "1" + "0" * 26, "1e30", "1E+100000000", "1e-100000000", "NaN", "-Infinity",
    "inf", "-0", "0", "0.001", "1,000", "12abc", "--5", "+7", ".5", "5.", "0x10", " 12.50 ", "10000000.01",
    "-10000000.00", "²", "١٢", _full_width("123"), "1\x00", "",
]
RAW_LITERALS = [
    "1e100000000", "-1E-100000000", "1e30", "9" * 30, "1" * 41, "1" * 5000, "0.1", "-0", "1E+2", "123.456e-1",
]

# st.characters() leaves out lone surrogates; JSON can carry them ("\ud800"), so the API gets them too.
any_text = st.text(max_size=60)
any_text_with_surrogates = st.text(st.characters(exclude_categories=()), max_size=60)
amount_text = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.from_regex(r"[+-]?[0-9]{0,32}(\.[0-9]{0,4})?", fullmatch=True),
    st.decimals(places=None).map(str),
    st.integers().map(str),
    st.floats().map(repr),
    any_text,
)
raw_numbers = st.one_of(
    st.sampled_from(RAW_LITERALS),
    st.from_regex(r"-?(0|[1-9][0-9]{0,50})(\.[0-9]{1,8})?([eE][+-]?[0-9]{1,12})?", fullmatch=True),
).map(Raw)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              any_text_with_surrogates),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
uin_values = st.one_of(
    st.sampled_from(UINS + [STRANGER_UIN]),
    st.sampled_from(UINS).map(str),
    st.sampled_from(UINS).map(lambda uin: _full_width(str(uin))),
    st.sampled_from(["²", "9" * 30, "0", "-1", str(2**63), " 880000000001 ", "880000000001\x00"]),
    raw_numbers,
    json_values,
)
zones = st.integers(min_value=-1439, max_value=1439).map(lambda minutes: dt_timezone(timedelta(minutes=minutes)))
incurred_at_values = st.one_of(
    st.sampled_from([
        "2026-11-25T10:00:00Z", "2000-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00", "2026-11-25T10:00:00", "yesterday", "", "2026-02-30T00:00:00Z",
    ]),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones).map(
        lambda value: value.isoformat()
    ),
    any_text_with_surrogates,
)
text_values = st.one_of(any_text_with_surrogates, st.sampled_from(["a\x00b", "\ud800", "x" * 300]), json_values)


rarely = st.sampled_from([False] * 9 + [True])


def mostly(good, bad):
    """Three draws in four from `good`, so that whole requests are often valid and the accepting
    path is exercised too, not only the first refusal."""
    return st.sampled_from([good, good, good, bad]).flatmap(lambda chosen: chosen)


plausible_amounts = st.decimals(min_value=-500, max_value=5000, places=2)
plausible_charges = st.decimals(min_value=Decimal("0.01"), max_value=500, places=2)
plausible_uins = st.one_of(st.sampled_from(UINS), st.sampled_from(UINS).map(str))
plausible_text = st.text(max_size=30)
plausible_times = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2026, 11, 1), timezones=zones).map(
    lambda value: value.isoformat()
)


def _encode(value) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_encode(v) for v in value) + "]"
    return json.dumps(value)


@st.composite
def allocate_bodies(draw) -> dict:
    params = {
        "ClientUin": draw(mostly(plausible_uins, uin_values)),
        "AddedCredit": draw(mostly(
            st.one_of(plausible_amounts.map(str), plausible_amounts.map(Raw)),
            st.one_of(amount_text, raw_numbers, json_values, st.decimals(places=2).map(Raw)),
        )),
    }
    if draw(st.booleans()):
        params["Remark"] = draw(mostly(plausible_text, text_values))
    if draw(st.booleans()):
        tokens = st.sampled_from(["token-1", "token-2"]) | st.uuids().map(str)
        params["ClientToken"] = draw(mostly(tokens, text_values))
    if draw(rarely):
        del params[draw(st.sampled_from(["ClientUin", "AddedCredit"]))]
    if draw(rarely):
        params[draw(st.text(max_size=8))] = draw(json_values)
    return params


@st.composite
def charges(draw) -> dict:
    charge = {
        "ClientUin": draw(mostly(plausible_uins, uin_values)),
        "Amount": draw(mostly(plausible_charges.map(str), st.one_of(amount_text, raw_numbers, json_values))),
        "IncurredAt": draw(mostly(plausible_times, incurred_at_values)),
        "ExternalId": draw(mostly(st.sampled_from(["bill-1", "bill-2"]) | st.uuids().map(str), text_values)),
    }
    for name in ("Product", "Description"):
        if draw(st.booleans()):
            charge[name] = draw(mostly(plausible_text, text_values))
    if draw(rarely):
        del charge[draw(st.sampled_from(list(charge)))]
    return charge


usage_bodies = mostly(
    st.fixed_dictionaries({"Charges": st.lists(charges(), min_size=1, max_size=3)}),
    st.one_of(st.fixed_dictionaries({"Charges": json_values}), json_values),
)
csv_cells = st.one_of(
    amount_text, incurred_at_values, st.sampled_from(["bill-1", "bill-2", "CVM", ""]), any_text_with_surrogates
)
csv_rows = st.lists(
    mostly(
        st.tuples(
            plausible_uins.map(str), plausible_charges.map(str), plausible_times, st.uuids().map(str), plausible_text,
            plausible_text,
        ).map(list),
        st.lists(mostly(csv_cells, st.sampled_from([str(uin) for uin in UINS])), min_size=0, max_size=7),
    ),
    max_size=4,
)
csv_headers = st.one_of(
    st.just(["customer_uin", "amount", "incurred_at", "external_id", "product", "description"]),
    st.just(["customer_uin", "amount", "incurred_at", "external_id"]),
    st.lists(any_text, max_size=6),
)


# --- the books --------------------------------------------------------------------------------


def books() -> tuple:
    """Everything a refused input must leave as it was."""
    return (
        tuple(CreditPool.objects.order_by("reseller_id").values_list("reseller_id", "total", "remaining")),
        tuple(Customer.objects.order_by("id").values_list("id", "balance__credit", "balance__used", "balance__available")),
        tuple(AllocationRecord.objects.aggregate(n=Count("id"), last=Max("id")).values()),
        tuple(UsageCharge.objects.aggregate(n=Count("id"), last=Max("id")).values()),
        tuple(Repayment.objects.aggregate(n=Count("id"), last=Max("id")).values()),
    )


def assert_books_balance() -> None:
    assert ledger_mismatches() == []
    def per_customer(model) -> dict:
        return dict(model.objects.values("customer_id").annotate(s=Sum("amount")).values_list("customer_id", "s"))

    charged, repaid = per_customer(UsageCharge), per_customer(Repayment)
    for pk, used in Customer.objects.values_list("id", "balance__used"):
        assert used == charged.get(pk, Decimal("0.00")) - repaid.get(pk, Decimal("0.00")), pk


def tally(target: str, outcome: str) -> None:
    counts = TALLY.setdefault(target, Counter())
    counts["tried"] += 1
    counts[outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def fuzz_summary():
    yield
    if not TALLY:
        return
    row = "{:<22} {:>6} {:>8} {:>9} {:>5}".format
    lines = [row("target", "tried", "refused", "accepted", "500s")]
    for target, counts in [*TALLY.items(), ("all", sum(TALLY.values(), Counter()))]:
        lines.append(row(target, counts["tried"], counts["refused"], counts["accepted"], counts["500"]))
    lines.append("API refusals by code: " + ", ".join(f"{code} {n}" for code, n in API_CODES.most_common()))
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))


@pytest.fixture
def shop(settings):
    """A funded reseller with three customers, another reseller's customer, and an operator signed in
    to the console with an API key."""
    settings.API_RATE_LIMIT_CREDIT = 0  # 0 = unlimited: the fuzzer calls far faster than 5/s
    settings.API_RATE_LIMIT_DEFAULT = 0
    reseller = ResellerFactory()
    pool_grant(reseller=reseller, amount="100000.00")
    for uin in UINS:
        CustomerFactory(reseller=reseller, uin=uin)
    CustomerFactory(uin=STRANGER_UIN)
    operator = MemberFactory(reseller=reseller, role=Member.Role.OPERATOR)
    key, secret_key = api_key_create(user=operator.user, description="fuzz")
    console = Client(raise_request_exception=False)
    console.force_login(operator.user)
    api = Client(raise_request_exception=False)
    return {"reseller": reseller, "console": console, "key": (key.secret_id, secret_key), "api": api}


def call_api(shop, action: str, params) -> tuple[int, dict | None]:
    body = _encode(params).encode("utf-8", "surrogatepass")
    timestamp = int(time.time())
    secret_id, secret_key = shop["key"]
    headers = {"Content-Type": "application/json", "Host": "testserver"}
    response = shop["api"].post(
        "/", data=body, content_type="application/json",
        headers={
            "Host": "testserver", "X-TC-Action": action, "X-TC-Version": VERSION, "X-TC-Timestamp": str(timestamp),
            "Authorization": signing.authorization_header(
                secret_id=secret_id, secret_key=secret_key, body=body, headers=headers, timestamp=timestamp
            ),
        },
    )
    answer = json.loads(response.content)["Response"] if response.status_code == 200 else None
    return response.status_code, answer


def check_api_answer(target: str, status: int, answer: dict | None, before: tuple) -> None:
    if status != 200 or answer.get("Error", {}).get("Code") == "InternalError":
        tally(target, "500")
        pytest.fail(f"{target} answered {status} {answer}")
    if "Error" in answer:
        assert not answer["Error"]["Code"].startswith("AuthFailure"), answer
        tally(target, "refused")
        API_CODES[answer["Error"]["Code"]] += 1
        assert books() == before, answer["Error"]
    else:
        tally(target, "accepted")
        assert_books_balance()


# --- the doors --------------------------------------------------------------------------------


@FUZZ
@given(
    amount=mostly(plausible_amounts.map(str), amount_text),
    remark=mostly(plausible_text, st.one_of(any_text, st.sampled_from(["a\x00b", "x" * 256]))),
    key=mostly(st.uuids().map(lambda u: u.hex), st.one_of(st.sampled_from(["same-key", "", "k" * 65]), any_text)),
    uin=st.sampled_from(UINS),
)
def test_console_allocate_form(shop, amount, remark, key, uin):
    before = books()
    response = shop["console"].post(
        f"/customers/{uin}/allocate/", {"amount": amount, "remark": remark, "idempotency_key": key},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal",
    )
    if response.status_code >= 500:
        tally("console allocate form", "500")
        pytest.fail(f"console allocate answered {response.status_code} for {amount!r}, {remark!r}, {key!r}")
    assert response.status_code in (200, 204), response.status_code
    if response.status_code == 200:
        html = response.content.decode()
        if 'id="repossess-statement"' in html:
            # A repossession is stated and waits for its confirmation (issue 14): nothing moves yet.
            tally("console allocate form", "to confirm")
            assert 'class="field-error"' not in html
        else:
            tally("console allocate form", "refused")
            assert 'class="field-error"' in html or 'class="alert alert-error"' in html, "a refusal says why"
        assert books() == before
    else:
        tally("console allocate form", "accepted")
        assert_books_balance()


@FUZZ
@given(params=mostly(allocate_bodies(), json_values))
def test_allocate_customer_credit(shop, params):
    before = books()
    status, answer = call_api(shop, "AllocateCustomerCredit", params)
    check_api_answer("AllocateCustomerCredit", status, answer, before)


@FUZZ
@given(params=usage_bodies)
def test_report_customer_usage(shop, params):
    before = books()
    status, answer = call_api(shop, "ReportCustomerUsage", params)
    check_api_answer("ReportCustomerUsage", status, answer, before)


@FUZZ
@given(
    header=csv_headers, rows=csv_rows, raw=st.binary(max_size=200), use_raw=st.sampled_from([False] * 4 + [True]),
    skip_invalid=st.booleans(),
)
def test_csv_import(shop, tmp_path_factory, header, rows, raw, use_raw, skip_invalid):
    if not use_raw:  # one file in five is arbitrary bytes
        text = io.StringIO()
        csv.writer(text).writerows([header, *rows])
        raw = text.getvalue().encode("utf-8", "surrogatepass")
    path = tmp_path_factory.mktemp("csv") / "usage.csv"
    path.write_bytes(raw)
    before = books()
    args = [str(path), "--skip-invalid"] if skip_invalid else [str(path)]
    try:
        call_command("import_usage", *args, stdout=StringIO(), stderr=StringIO())
    except CommandError:
        tally("CSV import", "refused")
        assert books() == before
    except Exception as exc:
        tally("CSV import", "500")
        pytest.fail(f"import_usage crashed with {exc!r} on {raw[:200]!r}")
    else:
        tally("CSV import", "accepted")
        assert_books_balance()
