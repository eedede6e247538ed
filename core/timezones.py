"""A reseller's time zone: one rule for which names are valid, and one fallback for a stored name
that is not (saved before it was validated, or dropped from the zoneinfo database since)."""

import logging
import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

logger = logging.getLogger(__name__)


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA names this machine's zoneinfo database holds, read once per process."""
    return frozenset(zoneinfo.available_timezones())


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(time_zone_names())]


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
