import time
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from core.errors import InvalidAmount
from core.money import parse_amount


@pytest.mark.parametrize(
    "text, expected",
    [("100", "100.00"), ("100.5", "100.50"), ("-50.25", "-50.25"), ("+7.00", "7.00"), (" 3.10 ", "3.10"),
     (".5", "0.50"), ("10000000.00", "10000000.00"), ("-10000000", "-10000000.00"), (12, "12.00"),
     (Decimal("1.2"), "1.20")],
)
def test_accepts_plain_decimals(text, expected):
    amount = parse_amount(text)
    assert amount == Decimal(expected)
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Enter an amount"),
        ("   ", "Enter an amount"),
        ("0", "cannot be zero"),
        ("-0.00", "cannot be zero"),
        ("NaN", "NaN and Infinity"),
        ("-Infinity", "NaN and Infinity"),
        ("inf", "NaN and Infinity"),
        ("1e3", "exponents"),
        ("1E-2", "exponents"),
        ("1.234", "at most 2 decimal places"),
        ("0.001", "at most 2 decimal places"),
        ("10000000.01", "must not exceed 10,000,000.00"),
        ("-10000000.01", "must not exceed 10,000,000.00"),
        ("1,000", "digits with an optional sign"),
        ("12abc", "digits with an optional sign"),
        ("--5", "digits with an optional sign"),
        (1.5, "decimal number"),
        (True, "decimal number"),
        (None, "decimal number"),
        (Decimal("NaN"), "NaN and Infinity"),
    ],
)
def test_refuses_each_bad_input_with_its_own_message(text, message):
    with pytest.raises(InvalidAmount) as error:
        parse_amount(text)
    assert message in error.value.message
    assert error.value.code == "InvalidParameterValue.CreditAmountOutOfRange"


def test_two_vs_three_decimal_places():
    assert parse_amount("1.23") == Decimal("1.23")
    with pytest.raises(InvalidAmount):
        parse_amount("1.230")


def test_sign_and_zero_switches():
    assert parse_amount("0", allow_zero=True) == Decimal("0.00")
    with pytest.raises(InvalidAmount, match="must be positive"):
        parse_amount("-1", allow_negative=False)


def test_limit_follows_setting(settings):
    settings.CREDIT_MAX_PER_OPERATION = Decimal("500.00")
    assert parse_amount("500") == Decimal("500.00")
    with pytest.raises(InvalidAmount, match="500.00"):
        parse_amount("500.01")


@given(st.decimals(min_value=Decimal("-10000000.00"), max_value=Decimal("10000000.00"), places=2))
def test_round_trips_every_two_place_amount(value):
    if value == 0:
        with pytest.raises(InvalidAmount):
            parse_amount(str(value))
    else:
        assert parse_amount(format(value, "f")) == value


@given(st.decimals(min_value=-10**9, max_value=10**9, places=3).filter(lambda d: d != d.quantize(Decimal("0.01"))))
def test_never_rounds_three_places(value):
    with pytest.raises(InvalidAmount):
        parse_amount(format(value, "f"))


@given(st.text(max_size=20))
def test_arbitrary_text_is_parsed_or_refused_cleanly(text):
    try:
        amount = parse_amount(text)
    except InvalidAmount:
        return
    assert amount == Decimal(text.strip())
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "value, message",
    [
        ("9" * 27, "must not exceed 10,000,000.00"),
        ("9" * 30, "must not exceed 10,000,000.00"),
        ("-" + "9" * 30 + ".99", "must not exceed 10,000,000.00"),
        ("9" * 41, "at most 40 characters"),
        (10**30, "must not exceed 10,000,000.00"),
        # str() of this int alone raises ValueError (more than 4,300 digits).
        pytest.param(-(10**5000), "must not exceed 10,000,000.00", id="minus-10**5000"),
        (Decimal("1e30"), "must not exceed 10,000,000.00"),
        (Decimal("-1E+100000000"), "must not exceed 10,000,000.00"),
        (Decimal("1E-100000000"), "at most 2 decimal places"),
    ],
)
def test_huge_amounts_are_refused_not_crashed_on(value, message):
    with pytest.raises(InvalidAmount) as error:
        parse_amount(value)
    assert message in error.value.message


def test_huge_amounts_are_refused_in_constant_time():
    # Writing out 1e100000000 takes seconds; the exponent alone says it is too large.
    for value in (Decimal("1E+100000000"), Decimal("-1E+999999999"), Decimal("1E-100000000"), "9" * 1_000_000):
        started = time.perf_counter()
        with pytest.raises(InvalidAmount):
            parse_amount(value)
        assert time.perf_counter() - started < 0.05, value


def test_leading_zeros_do_not_count_as_digits():
    assert parse_amount("0" * 30 + "12.50") == Decimal("12.50")
    assert parse_amount(Decimal("0E+100000000"), allow_zero=True) == Decimal("0.00")


def test_the_pool_limit_refuses_huge_amounts_too():
    with pytest.raises(InvalidAmount, match="9,999,999,999.99"):
        parse_amount("9" * 30, allow_negative=False, limit=Decimal("9999999999.99"))


@given(st.from_regex(r"[0-9]{1,22}(\.[0-9]{0,4})?", fullmatch=True), st.booleans(), st.booleans())
def test_plain_digits_are_read_as_the_general_parser_reads_them(text, allow_negative, allow_zero):
    """parse_amount's shortcut for unsigned digits with up to 2 decimals (most amounts): the same
    amount, or the same refusal, as the general parser gives the same text with a "+" in front."""

    def outcome(value):
        try:
            return parse_amount(value, allow_negative=allow_negative, allow_zero=allow_zero)
        except InvalidAmount as error:
            return error.message

    assert outcome(text) == outcome("+" + text)
