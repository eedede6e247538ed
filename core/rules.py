"""The usage rules of DESIGN §2 and §3, defined once: the default alert thresholds and used %.

Everything that shows or acts on them derives from here: the stored usage band (customers.models),
the usage filter and the Overview's counts, the alert SQL, the meter in My Customers, the CSV
export, and the e-mail, SMS and Message Center texts."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.text import format_lazy, get_text_list
from django.utils.translation import gettext, gettext_lazy

# Used ≥ 75 %, ≥ 90 %, ≥ 100 % of credit (the same as available ≤ 25 %, 10 %, 0 %), lowest first.
THRESHOLDS: tuple[int, ...] = (75, 90, 100)
# The threshold meaning "all of the credit is used": credit 0 with anything used counts as past it.
FULL = 100
# A customer's burn rate is its average daily spend over this many days (today, in the reseller's
# zone, and the days before): credits.services and the balance's CHECK (customers.models).
BURN_RATE_DAYS = 7

_PERCENT_PLACES = Decimal("0.01")


def used_percent(used: Decimal, credit: Decimal) -> Decimal | None:
    """used / credit as a percentage with 2 places, rounded half-up (a derived value, DESIGN §2):
    24.69 of 200 is 12.35. None when credit is 0: there is no percentage (used > 0 then counts as
    over 100%, see used_percent_text)."""
    if credit > 0:
        return (used * 100 / credit).quantize(_PERCENT_PLACES, rounding=ROUND_HALF_UP)
    return None


def used_percent_text(used: Decimal, credit: Decimal, texts: tuple[str, str] | None = None) -> str:
    """Used % as a person reads it: "12.35%", "over 100%" (credit 0, something used), or "" when
    there is neither credit nor usage. `texts`: used_percent_texts() of the active language, for a
    caller writing many (a table's rows)."""
    percent_format, over = texts or used_percent_texts()
    percent = used_percent(used, credit)
    if percent is not None:
        return percent_format % {"percent": percent}
    return over if used > 0 else ""


def used_percent_texts() -> tuple[str, str]:
    """The translated forms used_percent_text writes a percentage and "over 100%" in."""
    return gettext("%(percent)s%%"), gettext("over 100%")


def band_label(threshold: int):
    """The usage band's name, as the filter and the Overview show it: "Used ≥ 90 %"."""
    return format_lazy(gettext_lazy("Used ≥ {threshold} %"), threshold=threshold)


def thresholds_text() -> str:
    """The default thresholds in a sentence: "75 %, 90 % and 100 %"."""
    return get_text_list([f"{threshold} %" for threshold in THRESHOLDS], gettext("and"))
