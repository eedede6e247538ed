"""Money, one way everywhere: the parser shared by forms, the API and commands, and the one way an
amount is written for a person (`format_money`: screens, e-mail, SMS and the messages of errors).

Amounts are US dollars as Decimal with at most 2 places. Input with more places is refused, not
rounded; only derived values are rounded (half-up) with `quantize_money`.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.translation import gettext

from core.errors import InvalidAmount

CENT = Decimal("0.01")
_ZERO_CENTS = Decimal("0.00")
# Digits, then up to 2 decimals: fewer integer digits than INTEGER_DIGITS_MAX, so Decimal computes
# it exactly, and no sign, exponent or white space to look at.
_UNSIGNED_CENTS = re.compile(r"[0-9]{1,19}(?:\.[0-9]{0,2})?")
_PLAIN_DECIMAL = re.compile(r"^[+-]?([0-9]+)(\.([0-9]*))?$|^[+-]?\.([0-9]+)$")
# Far longer than any amount written sensibly ("-10000000.00" has 12 characters).
TEXT_MAX = 40
# More integer digits than any limit can have (the columns hold 14). Up to this many, plus the 2
# decimals, Decimal's default 28-digit precision computes exactly; beyond it, quantize() raises.
INTEGER_DIGITS_MAX = 20
_TOO_LARGE = 10**INTEGER_DIGITS_MAX


def quantize_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value: Decimal) -> str:
    """An amount as a person reads it (DESIGN §9): thousands separators and 2 decimals, "1,430.50",
    "-25.00". The same in every language the console speaks, and without the currency, which the
    text around it names (USD)."""
    return f"{quantize_money(Decimal(value)):,.2f}"


def max_per_operation() -> Decimal:
    return Decimal(settings.CREDIT_MAX_PER_OPERATION)


def parse_amount(
    value,
    *,
    allow_negative: bool = True,
    allow_zero: bool = False,
    limit: Decimal | None = None,
) -> Decimal:
    """Return `value` as a Decimal with exactly 2 places or raise InvalidAmount saying why.

    Accepts a str, int or Decimal written as a plain decimal with an optional sign. Refuses empty
    input, NaN, Infinity, exponents, more than 2 decimal places, zero (unless allow_zero), a
    negative value (unless allow_negative) and an absolute value over `limit` (default: the
    per-operation maximum). Floats are refused: they cannot hold cents exactly.

    Size is checked before any Decimal arithmetic (text length, integer digits, a Decimal's
    exponent), so "9" * 30 or 1e100000000 is refused at once instead of overflowing the Decimal
    context or spending seconds writing out a hundred million digits.
    """
    ceiling = max_per_operation() if limit is None else limit
    if type(value) is str and _UNSIGNED_CENTS.fullmatch(value):
        # Most amounts (every usage charge): plain digits with up to 2 decimals, checked in one match.
        return _bounded(Decimal(value).quantize(CENT), allow_negative, allow_zero, ceiling)
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidAmount(gettext("Enter the amount as a decimal number such as 100.00."))
    if isinstance(value, int):
        if abs(value) >= _TOO_LARGE:
            raise _over(ceiling)
        text = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidAmount(gettext("Enter a finite amount: NaN and Infinity are not amounts."))
        if value.as_tuple().exponent < -2:
            raise _too_many_places()
        # adjusted() is the power of ten of the leading digit; a zero writes out as "0" at any exponent.
        if value and value.adjusted() >= INTEGER_DIGITS_MAX:
            raise _over(ceiling)
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise InvalidAmount(gettext("Enter the amount as a decimal number such as 100.00."))

    if text == "":
        raise InvalidAmount(gettext("Enter an amount."))
    if len(text) > TEXT_MAX:
        raise InvalidAmount(
            gettext("Write the amount with at most %(max)d characters, such as 1500.00.") % {"max": TEXT_MAX}
        )
    lowered = text.lower().lstrip("+-")
    if lowered in {"nan", "snan", "inf", "infinity"}:
        raise InvalidAmount(gettext("Enter a finite amount: NaN and Infinity are not amounts."))
    if "e" in lowered:
        raise InvalidAmount(gettext("Write the amount out in full (such as 1500.00): exponents are not accepted."))
    match = _PLAIN_DECIMAL.match(text)
    if not match:
        raise InvalidAmount(
            gettext("Enter the amount as digits with an optional sign and decimal point, such as 100.00 or -50.")
        )
    fraction = match.group(3) if match.group(1) is not None else match.group(4)
    if fraction and len(fraction) > 2:
        raise _too_many_places()
    if match.group(1) is not None and len(match.group(1).lstrip("0")) > INTEGER_DIGITS_MAX:
        raise _over(ceiling)

    return _bounded(Decimal(text).quantize(CENT), allow_negative, allow_zero, ceiling)


def _bounded(amount: Decimal, allow_negative: bool, allow_zero: bool, ceiling: Decimal) -> Decimal:
    if amount == 0 and not allow_zero:
        raise InvalidAmount(
            gettext("The amount cannot be zero: enter a positive amount to allocate or a negative one to repossess.")
        )
    if amount < 0 and not allow_negative:
        raise InvalidAmount(gettext("The amount must be positive."))
    if abs(amount) > ceiling:
        raise _over(ceiling)
    return amount + _ZERO_CENTS  # -0.00 becomes 0.00


def _over(ceiling: Decimal) -> InvalidAmount:
    return InvalidAmount(
        gettext("The amount must not exceed %(ceiling)s USD per operation.") % {"ceiling": format_money(ceiling)}
    )


def _too_many_places() -> InvalidAmount:
    return InvalidAmount(gettext("Amounts have at most 2 decimal places (cents); round the amount yourself."))
