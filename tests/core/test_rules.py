"""core.rules, core.money.format_money and core.timezones.format_time: the rules every surface
shows (tests/core/test_rules_everywhere.py checks that the surfaces do)."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.money import format_money
from core.rules import FULL, THRESHOLDS, band_label, thresholds_text, used_percent, used_percent_text
from core.timezones import format_time, zone_label


@pytest.mark.parametrize(
    ("used", "credit", "percent"),
    [
        ("24.69", "200.00", "12.35"),  # 12.345: half-up, not half-even (which gives 12.34)
        ("180.01", "200.00", "90.01"),  # 90.005
        ("0.00", "200.00", "0.00"),
        ("200.00", "200.00", "100.00"),
        ("250.00", "200.00", "125.00"),
        ("1.00", "3.00", "33.33"),
        ("2.00", "3.00", "66.67"),
    ],
)
def test_used_percent_rounds_half_up_to_two_places(used, credit, percent):
    value = used_percent(Decimal(used), Decimal(credit))
    assert value == Decimal(percent) and value.as_tuple().exponent == -2


def test_no_credit_has_no_percentage():
    assert used_percent(Decimal("5.00"), Decimal("0.00")) is None
    assert used_percent(Decimal("0.00"), Decimal("0.00")) is None
    assert used_percent_text(Decimal("5.00"), Decimal("0.00")) == "over 100%"
    assert used_percent_text(Decimal("0.00"), Decimal("0.00")) == ""
    assert used_percent_text(Decimal("24.69"), Decimal("200.00")) == "12.35%"


def test_thresholds_are_the_design_defaults_and_full_credit_is_the_last():
    assert THRESHOLDS == (75, 90, 100) and THRESHOLDS[-1] == FULL
    assert thresholds_text() == "75 %, 90 % and 100 %"
    assert str(band_label(90)) == "Used ≥ 90 %"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1430.5", "1,430.50"),
        ("1430.50", "1,430.50"),
        ("0", "0.00"),
        ("-25", "-25.00"),
        ("-1234567.89", "-1,234,567.89"),
        ("10000000.00", "10,000,000.00"),
        ("0.005", "0.01"),  # a derived value is rounded half-up
        ("2.675", "2.68"),
    ],
)
def test_format_money(value, text):
    assert format_money(Decimal(value)) == text


@pytest.mark.parametrize(
    ("zone", "moment", "text"),
    [
        ("Asia/Shanghai", datetime(2026, 11, 30, 10, 5, 7, tzinfo=UTC), "2026-11-30 18:05 UTC+8"),
        ("UTC", datetime(2026, 11, 30, 10, 5, tzinfo=UTC), "2026-11-30 10:05 UTC"),
        # Summer time: the offset in force at that moment names the zone.
        ("Europe/Berlin", datetime(2026, 1, 15, 12, 0, tzinfo=UTC), "2026-01-15 13:00 UTC+1"),
        ("Europe/Berlin", datetime(2026, 7, 15, 12, 0, tzinfo=UTC), "2026-07-15 14:00 UTC+2"),
        ("Asia/Kolkata", datetime(2026, 7, 15, 12, 0, tzinfo=UTC), "2026-07-15 17:30 UTC+5:30"),
        ("America/St_Johns", datetime(2026, 1, 15, 12, 0, tzinfo=UTC), "2026-01-15 08:30 UTC-3:30"),
    ],
)
def test_format_time_names_the_zone(zone, moment, text):
    assert format_time(moment, zone=ZoneInfo(zone)) == text


def test_format_time_with_seconds_in_the_active_zone(settings):
    from django.utils import timezone

    with timezone.override(ZoneInfo("Asia/Shanghai")):
        assert format_time(datetime(2026, 11, 30, 10, 5, 7, tzinfo=UTC), seconds=True) == "2026-11-30 18:05:07 UTC+8"


def test_zone_label_of_whole_and_partial_hours():
    from datetime import timedelta

    assert zone_label(timedelta(0)) == "UTC"
    assert zone_label(timedelta(hours=-5)) == "UTC-5"
    assert zone_label(timedelta(hours=5, minutes=45)) == "UTC+5:45"
