"""A reseller's time zone: one rule for which names are valid, one fallback for a stored name that
is not (saved before it was validated, or dropped from the zoneinfo database since), and one way a
time is written for a person, naming its zone."""

import logging
import zoneinfo
from datetime import datetime, timedelta, tzinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

logger = logging.getLogger(__name__)


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA names this machine's zoneinfo database holds, read once per process."""
    return frozenset(zoneinfo.available_timezones())


@cache
def time_zone_choices() -> tuple[tuple[str, str], ...]:
    """The zones as form choices, sorted, made once per process (the Settings page asks each request)."""
    return tuple((name, name) for name in sorted(time_zone_names()))


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            gettext("“%(value)s” is not a time zone. Choose an IANA name such as Asia/Shanghai, Europe/Berlin or UTC."),
            code="invalid_time_zone",
            params={"value": value},
        )


def reseller_zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone named `name`, or DEFAULT_RESELLER_TIME_ZONE with a logged warning when `name` is not
    a time zone: a bad stored value must not take the console, the API or the alert sweep down."""
    if name in time_zone_names():
        return zoneinfo.ZoneInfo(name)
    logger.warning(
        "Reseller time zone %r is not a time zone; using %s instead. Correct it in the admin.",
        name, settings.DEFAULT_RESELLER_TIME_ZONE,
    )
    return zoneinfo.ZoneInfo(settings.DEFAULT_RESELLER_TIME_ZONE)


def zone_label(offset: timedelta) -> str:
    """A UTC offset as the console names a zone: "UTC", "UTC+8", "UTC-3:30"."""
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def format_time(value: datetime, *, zone: tzinfo | None = None, seconds: bool = False) -> str:
    """A time as a person reads it, in `zone` (default: the active one, which console pages set to
    the reseller's) and naming it (DESIGN §9): "2026-11-30 18:05 UTC+8". The offset is the one in
    force at that moment, so a zone with summer time is named right on both sides of the change."""
    local = timezone.localtime(value, zone)
    text = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} {zone_label(local.utcoffset())}"


def header_naming_zone(header: list[str], column: str, zone: tzinfo) -> list[str]:
    """A CSV header whose time column names the zone its times are written in (DESIGN §9):
    "Binding time (Asia/Shanghai)". The values stay plain "YYYY-MM-DD HH:MM:SS" for spreadsheets."""
    name = getattr(zone, "key", None) or str(zone)
    return [f"{label} ({name})" if label == column else label for label in header]
