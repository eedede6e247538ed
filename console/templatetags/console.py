"""`{% load console %}`: money, times and usage shown one way on every console page (DESIGN §9).
Each filter is a thin wrapper of the core function that e-mail, SMS and error messages use too."""

from django import template

from core.money import format_money
from core.rules import FULL, THRESHOLDS, thresholds_text, used_percent, used_percent_text
from core.timezones import format_time

register = template.Library()


@register.filter
def money(value) -> str:
    """`{{ amount|money }}`: "1,430.50" (core.money.format_money); empty for no value."""
    return "" if value is None or value == "" else format_money(value)


@register.filter
def zoned(value, precision: str = "") -> str:
    """`{{ time|zoned }}`: "2026-11-30 18:05 UTC+8", in the reseller's zone (the console activates
    it); `{{ time|zoned:"seconds" }}` adds the seconds. Empty for no time."""
    if not value:
        return ""
    return format_time(value, seconds=precision == "seconds")


@register.simple_tag
def default_thresholds() -> str:
    """The default alert thresholds in a sentence: "75 %, 90 % and 100 %"."""
    return thresholds_text()


@register.simple_tag(name="used_percent")
def used_percent_tag(used, credit) -> str:
    """`{% used_percent used credit %}`: "12.35%", or "over 100%" with no credit (core.rules)."""
    return used_percent_text(used, credit)


@register.inclusion_tag("console/_usage_meter.html")
def usage_meter(used, credit, band) -> dict:
    """Used % of credit as a meter and its text. The meter turns amber from the first threshold and
    red from the second (its `low` and `high`); `band` (the stored usage band) colours the text."""
    percent = used_percent(used, credit)
    return {
        "percent": percent,
        "text": used_percent_text(used, credit),
        # A meter stops at its max: over 100 % shows full, and its text says how far over.
        "value": str(FULL) if percent is None or percent >= FULL else str(percent),
        "low": THRESHOLDS[0],
        "high": THRESHOLDS[1] if len(THRESHOLDS) > 1 else FULL,
        "full": FULL,
        "band": band,
        "used": used,
    }
