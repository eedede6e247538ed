"""`{% load console %}`: money, times and usage shown one way on every console page (DESIGN §9).
Each filter is a thin wrapper of the core function that e-mail, SMS and error messages use too."""

from html import escape

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from console.tables import empty_state, header_cells, pager_links, row_url, usage_meter
from core.money import format_money
from core.rules import thresholds_text, used_percent_text
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
def filter_field(field, grow=False, sr_only=False, label=None) -> str:
    """`{% filter_field field grow=True sr_only=True label=text %}`: one field of a list's filter
    toolbar, its label and the error beside it, as the include templates/console/_filter_field.html
    wrote it (tests/console/test_templatetags.py compares the two): a toolbar of five fields through two includes each cost a list page
    about a tenth of its time. The error paragraph is always there, empty when the value is fine,
    so that the list's htmx answer can refill it out of band (console/_field_error.html)."""
    errors = field.errors
    classes = "toolbar-field" + (" grow" if grow else "") + (" has-error" if errors else "")
    auto_id = conditional_escape(field.auto_id)
    text = conditional_escape(label or field.label)
    hidden = ' class="sr-only"' if sr_only else ""
    said = " ".join(conditional_escape(error) for error in errors)
    return mark_safe(
        f'\n\n<div class="{classes}">\n  <label for="{auto_id}"{hidden}>{text}</label>\n  {conditional_escape(field)}\n  '
        f'<p class="field-error" id="{auto_id}_error" aria-live="polite">{said}</p>\n\n</div>\n'
    )


@register.simple_tag
def day_amount_rows(days) -> str:
    """`{% day_amount_rows allocated %}`: a chart's table rows, one per (day, amount) pair, the day
    in ISO form and the amount as `money` writes it: the Overview's 90 days in one tag, as a loop of
    90 rows through the template engine cost the page a tenth of its time."""
    return mark_safe("".join(
        f'<tr><th scope="row">{escape(day.isoformat())}</th><td class="num">{escape(money(amount))}</td></tr>'
        for day, amount in days))


@register.simple_tag
def default_thresholds() -> str:
    """The default alert thresholds in a sentence: "75 %, 90 % and 100 %"."""
    return thresholds_text()


@register.simple_tag(name="used_percent")
def used_percent_tag(used, credit) -> str:
    """`{% used_percent used credit %}`: "12.35%", or "over 100%" with no credit (core.rules)."""
    return used_percent_text(used, credit)


@register.simple_tag(name="usage_meter")
def usage_meter_tag(used, credit, band) -> str:
    """`{% usage_meter used credit band %}`: used % of credit as a meter and its text
    (console.tables.usage_meter)."""
    return usage_meter(used, credit, band)


@register.simple_tag(name="row_url")
def row_url_tag(name: str, argument) -> str:
    """`{% row_url "credits:allocate" record.uin %}`: `{% url %}` for a route of one whole number,
    without a trip through the URL resolver per call (console.tables.row_url)."""
    return row_url(name, argument)


@register.simple_tag
def table_rows(table) -> str:
    """`{% table_rows table as rows %}`: every row of the table's page, written by the table (a table
    with `renders_rows`, console.tables); empty when the page has none. One tag rather than a
    template loop over the rows: the loop and a tag per row cost more than the rows themselves."""
    return mark_safe("".join(table.render_row(row.record) for row in table.paginated_rows))


@register.simple_tag(takes_context=True)
def table_header(context, table) -> str:
    """`{% table_header table %}`: the header cell of each column, with its sort link (console.tables)."""
    return header_cells(table, context["request"])


@register.simple_tag(takes_context=True)
def table_pager_links(context, table) -> str:
    """`{% table_pager_links table %}`: the pager's page links, none for one page (console.tables)."""
    return pager_links(table, context["request"])


@register.simple_tag(takes_context=True, name="empty_state")
def empty_state_tag(context, table) -> dict:
    """`{% empty_state table as state %}`: why the table is empty and what to do (console.tables)."""
    return empty_state(table, context["request"])
