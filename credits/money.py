"""The one money parser shared by forms, the API and commands.

Amounts are US dollars as Decimal with at most 2 places. Input with more places is refused, not
rounded; only derived values are rounded (half-up) with `quantize_money`.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from partnercenter.errors import InvalidAmount

CENT = Decimal("0.01")
_PLAIN_DECIMAL = re.compile(r"^[+-]?([0-9]+)(\.([0-9]*))?$|^[+-]?\.([0-9]+)$")


def quantize_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


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
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidAmount("Enter the amount as a decimal number such as 100.00.")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidAmount("Enter a finite amount: NaN and Infinity are not amounts.")
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise InvalidAmount("Enter the amount as a decimal number such as 100.00.")

    if text == "":
        raise InvalidAmount("Enter an amount.")
    lowered = text.lower().lstrip("+-")
    if lowered in {"nan", "snan", "inf", "infinity"}:
        raise InvalidAmount("Enter a finite amount: NaN and Infinity are not amounts.")
    if "e" in lowered:
        raise InvalidAmount("Write the amount out in full (such as 1500.00): exponents are not accepted.")
    match = _PLAIN_DECIMAL.match(text)
    if not match:
        raise InvalidAmount(
            "Enter the amount as digits with an optional sign and decimal point, such as 100.00 or -50."
        )
    fraction = match.group(3) if match.group(1) is not None else match.group(4)
    if fraction and len(fraction) > 2:
        raise InvalidAmount("Amounts have at most 2 decimal places (cents); round the amount yourself.")

    amount = Decimal(text).quantize(CENT)
    if amount == 0 and not allow_zero:
        raise InvalidAmount("The amount cannot be zero: enter a positive amount to allocate or a negative one to repossess.")
    if amount < 0 and not allow_negative:
        raise InvalidAmount("The amount must be positive.")
    ceiling = max_per_operation() if limit is None else limit
    if abs(amount) > ceiling:
        raise InvalidAmount(f"The amount must not exceed {ceiling:,.2f} USD per operation.")
    return amount + Decimal("0.00")
