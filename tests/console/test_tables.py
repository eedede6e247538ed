"""console.tables.ConsoleTable: each table gets its own copy of every column (one level deep), so
what one table changes on its columns never reaches the class or another table."""

import copy

import pytest

from console.tables import ConsoleTable
from credits.tables import AllocationRecordTable
from customers.tables import CustomerTable
from notifications.tables import MessageTable


@pytest.mark.parametrize("table_class", [CustomerTable, AllocationRecordTable, MessageTable])
def test_each_table_has_its_own_columns(table_class):
    assert issubclass(table_class, ConsoleTable)
    first, second = table_class([]), table_class([])
    name = next(iter(table_class.base_columns))
    mine, theirs, declared = first.columns[name].column, second.columns[name].column, table_class.base_columns[name]
    assert mine is not theirs and mine is not declared
    assert [column.name for column in first.columns] == list(table_class.base_columns)
    first.columns.hide(name)
    assert not first.columns[name].visible and second.columns[name].visible and declared.visible
    mine.current_value = "written"
    assert getattr(theirs, "current_value", None) != "written" and getattr(declared, "current_value", None) != "written"
    # The rest is shared as declared: the same values a deep copy would give.
    deep = copy.deepcopy(dict(table_class.base_columns))[name]
    assert (mine.attrs, mine.verbose_name, mine.order_by, mine.orderable) == (deep.attrs, deep.verbose_name, deep.order_by, deep.orderable)


# The header as templates/tables/table.html wrote it through the engine before header_cells.
ENGINE_HEADER = (
    "{% load django_tables2 %}{% for column in table.columns %}\n"
    '      <th {{ column.attrs.th.as_html }} scope="col"{% if column.is_ordered %} aria-sort="'
    '{% if column.order_by_alias.is_descending %}descending{% else %}ascending{% endif %}"{% endif %}>\n'
    '        {% if column.orderable %}<a class="sort{% if column.is_ordered %} sorted'
    '{% if column.order_by_alias.is_descending %} desc{% else %} asc{% endif %}{% endif %}" '
    'href="{% querystring_replace table.prefixed_order_by_field=column.order_by_alias.next without table.prefixed_page_field %}">'
    "{{ column.header }}</a>{% else %}{{ column.header }}{% endif %}\n"
    "      </th>\n"
    "    {% endfor %}"
)


@pytest.mark.parametrize("table_class", [CustomerTable, AllocationRecordTable, MessageTable])
@pytest.mark.parametrize("query", ["", "sort=available", "sort=-used&page=3", "q=a%26b%3Cc%3E&sort=-name&per_page=50&band=90",
                                   "sort=nonsense&x=1&x=2", "page=2&sort=uin"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_header_cells_are_what_the_template_wrote(table_class, query, language, rf):
    from django.template import engines
    from django.utils import translation

    from console.tables import configure_table, header_cells

    request = rf.get(f"/list/?{query}")
    with translation.override(language):
        table = configure_table(request, table_class([]))
        expected = engines["django"].from_string(ENGINE_HEADER).render({"table": table}, request)
        assert header_cells(table, request) == expected
        prefixed = table_class([], prefix="t-")
        prefixed.request = request
        assert header_cells(prefixed, request) == engines["django"].from_string(ENGINE_HEADER).render({"table": prefixed}, request)
