"""{% load console %}: the template side of core's money, time and usage rules."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone


def render(source: str, **context) -> str:
    return Template("{% load console %}" + source).render(Context(context))


def test_money_filter():
    assert render("{{ v|money }}", v=Decimal("1430.5")) == "1,430.50"
    assert render("{{ v|money }}", v=Decimal("-20000")) == "-20,000.00"
    assert render("[{{ v|money }}]", v=None) == "[]"


def test_zoned_filter_names_the_active_zone():
    moment = datetime(2026, 11, 30, 10, 5, 7, tzinfo=UTC)
    with timezone.override(ZoneInfo("Asia/Shanghai")):
        assert render("{{ t|zoned }}", t=moment) == "2026-11-30 18:05 UTC+8"
        assert render('{{ t|zoned:"seconds" }}', t=moment) == "2026-11-30 18:05:07 UTC+8"
    assert render("[{{ t|zoned }}]", t=None) == "[]"


@pytest.mark.parametrize(
    ("used", "credit", "band", "value", "text"),
    [
        ("24.69", "200.00", 0, "12.35", "12.35%"),
        ("190.00", "200.00", 90, "95.00", "95.00%"),
        ("250.00", "200.00", 100, "100", "125.00%"),  # the meter stops at its max; the text says how far over
        ("5.00", "0.00", 100, "100", "over 100%"),
    ],
)
def test_usage_meter(used, credit, band, value, text):
    html = render("{% usage_meter used credit band %}", used=Decimal(used), credit=Decimal(credit), band=band)
    assert f'value="{value}"' in html and 'low="75" high="90"' in html
    assert f">{text}</meter>" in html


def test_usage_meter_with_nothing_used_and_no_credit():
    assert render("{% usage_meter u c 0 %}", u=Decimal("0.00"), c=Decimal("0.00")) == '<span class="muted">—</span>'


def test_used_percent_and_default_thresholds():
    assert render("{% used_percent u c %}", u=Decimal("24.69"), c=Decimal("200.00")) == "12.35%"
    assert render("{% default_thresholds %}") == "75 %, 90 % and 100 %"


@pytest.mark.parametrize("route", ["customers:row", "credits:allocate", "credits:customer-records", "notifications:customer_alerts"])
def test_row_url_is_reverse(route):
    from django.urls import clear_script_prefix, reverse, set_script_prefix

    assert render(f'{{% row_url "{route}" uin %}}', uin=600000000123) == reverse(route, args=[600000000123])
    set_script_prefix("/partner/")
    try:
        assert render(f'{{% row_url "{route}" uin %}}', uin="7").startswith("/partner/")
        assert render(f'{{% row_url "{route}" uin %}}', uin="7") == reverse(route, args=[7])
    finally:
        clear_script_prefix()


def test_day_amount_rows_are_what_the_template_loop_wrote():
    from datetime import date
    from decimal import Decimal

    from django.template import engines

    days = [(date(2026, 1, 1), Decimal("0.00")), (date(2026, 1, 2), Decimal("1234567.5")), (date(2026, 1, 3), Decimal("-12.30")),
            (date(2026, 1, 4), None)]
    loop = engines["django"].from_string(
        '{% load console %}{% for day, amount in days %}<tr><th scope="row">{{ day.isoformat }}</th>'
        '<td class="num">{{ amount|money }}</td></tr>{% endfor %}').render({"days": days})
    mine = engines["django"].from_string("{% load console %}{% day_amount_rows days %}").render({"days": days})
    assert mine == loop and "1,234,567.50" in mine


# A field of a list's filter toolbar as the include templates/console/_filter_field.html wrote it.
FILTER_FIELD_INCLUDE = (
    "{# One field of a list's filter toolbar with its error beside it. The error paragraph is always there #}\n"
    "{# (empty when the value is fine), so the list's htmx answer can refill it out of band. #}\n"
    '<div class="toolbar-field{% if grow %} grow{% endif %}{% if field.errors %} has-error{% endif %}">\n'
    '  <label for="{{ field.auto_id }}"{% if sr_only %} class="sr-only"{% endif %}>{{ label|default:field.label }}</label>\n'
    "  {{ field }}\n"
    '  {% include "console/_field_error.html" with oob=False %}\n'
    "</div>\n"
)


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "date_from=oops&type=x&customer=12a", "date_from=2026-01-01&customer=100012345678"])
@pytest.mark.parametrize("options", [{}, {"grow": True, "sr_only": True, "label": "Search <b>"}, {"sr_only": True}])
def test_filter_field_is_what_the_include_wrote(query, options):
    from django.http import QueryDict
    from django.template import engines

    from credits.filters import AllocationRecordFilter
    from credits.models import AllocationRecord

    filterset = AllocationRecordFilter(QueryDict(query), queryset=AllocationRecord.objects.none())
    filterset.is_valid()
    engine = engines["django"]
    arguments = " ".join(f"{name}=given_{name}" for name in options)
    context = {f"given_{name}": value for name, value in options.items()}
    written = []
    for field in filterset.form:
        included = engine.from_string("{% with " + " ".join(f"{n}=given_{n}" for n in options) + " %}" + FILTER_FIELD_INCLUDE
                                      + "{% endwith %}" if options else FILTER_FIELD_INCLUDE).render({"field": field, **context})
        tag = engine.from_string("{% load console %}{% filter_field field " + arguments + " %}").render({"field": field, **context})
        assert tag == included
        written.append(tag)
    assert any("has-error" in tag for tag in written) == ("oops" in query)
