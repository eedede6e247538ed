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
                                   "sort=nonsense&x=1&x=2", "page=2&sort=uin", "a=1&sort=-name&b=%26+%C3%A9&page=4&c=",
                                   "sort=uin&sort=name&z=&page=1", "page=7", "q=%E4%B8%AD&per_page=100"])
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


# The pager's page links as templates/tables/table.html wrote them through the engine before pager_links.
ENGINE_PAGER = (
    "{% load django_tables2 i18n %}"
    "  {% if table.paginator.num_pages > 1 %}\n  <ul>\n    <li>{% if table.page.has_previous %}"
    '<a href="{% querystring_replace table.prefixed_page_field=table.page.previous_page_number %}" rel="prev" '
    "aria-label=\"{% translate 'Previous page' %}\">‹</a>{% else %}<span class=\"disabled\" aria-hidden=\"true\">‹</span>"
    "{% endif %}</li>\n    {% for p in table.page|table_page_range:table.paginator %}\n      <li>{% if p == '...' %}"
    '<span class="gap">…</span>{% elif p == table.page.number %}<span class="current" aria-current="page">{{ p }}</span>'
    '{% else %}<a href="{% querystring_replace table.prefixed_page_field=p %}">{{ p }}</a>{% endif %}</li>\n    {% endfor %}\n'
    "    <li>{% if table.page.has_next %}<a href=\"{% querystring_replace table.prefixed_page_field=table.page.next_page_number %}\" "
    "rel=\"next\" aria-label=\"{% translate 'Next page' %}\">›</a>{% else %}<span class=\"disabled\" aria-hidden=\"true\">›</span>"
    "{% endif %}</li>\n  </ul>\n  {% endif %}\n"
)


@pytest.mark.parametrize("rows", [0, 15, 45, 500, 25_000])
@pytest.mark.parametrize("query", ["", "page=2", "page=7&sort=-used", "page=999999", "q=a%26b%3Cc%3E&x=1&x=2&page=13&per_page=50",
                                   "page=last", "page=abc"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_pager_links_are_what_the_template_wrote(rows, query, language, rf):
    from django.template import engines
    from django.utils import translation

    from console.tables import configure_table, pager_links

    request = rf.get(f"/list/?{query}")
    with translation.override(language):
        table = configure_table(request, CustomerTable([{}] * rows))
        expected = engines["django"].from_string(ENGINE_PAGER).render({"table": table}, request)
        assert f"  {pager_links(table, request)}\n" == expected
        assert ("<ul>" in expected) == (table.paginator.num_pages > 1)  # several pages: links to compare


def test_pager_links_keep_a_prefixed_tables_page_field(rf):
    from console.tables import pager_links

    request = rf.get("/list/?t-page=3&q=x")
    table = CustomerTable([{}] * 100, prefix="t-")
    table.request = request
    table.paginate(per_page=10, page=3)
    links = pager_links(table, request)
    assert 'href="?t-page=2&amp;q=x" rel="prev"' in links and 'href="?t-page=4&amp;q=x" rel="next"' in links


def test_header_cells_of_computed_or_instance_attributes_are_never_kept(rf):
    """A <th> attribute computed per table (a callable) or a table's own attrs are written for that
    table, not taken from one written earlier (console.tables._th_attributes keeps declared ones)."""
    import django_tables2 as tables
    from django.template import engines

    from console.tables import ConsoleTable, header_cells

    class Computed(ConsoleTable):
        name = tables.Column("Name", attrs={"th": {"data-caption": lambda table: table.caption}})
        plain = tables.Column("Plain")

        class Meta:
            attrs = {"th": {"class": "declared"}}

    request = rf.get("/list/?sort=name")
    for caption, attrs in (("first", None), ("second", None), ("third", {"th": {"class": "mine"}})):
        table = Computed([], attrs=attrs)
        table.caption = caption
        table.order_by = "name"
        written = header_cells(table, request)
        assert written == engines["django"].from_string(ENGINE_HEADER).render({"table": table}, request)
        assert f'data-caption="{caption}"' in written
    assert 'class="mine orderable"' in written and 'class="declared orderable"' not in written


def test_header_cells_follow_a_verbose_name_changed_on_a_table_or_a_header_of_its_own(rf):
    """console.tables._header_text keeps a declared verbose name's escaped text per language: a
    table that gives a column another verbose name, and a column class with a header of its own,
    are written as they say, before and after the declared text was kept."""
    import django_tables2 as tables
    from django.template import engines
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from console.tables import ConsoleTable, header_cells

    class Shouting(tables.Column):
        @property
        def header(self):
            return f"{self.verbose_name}!"

    class Named(ConsoleTable):
        name = tables.Column(gettext_lazy("Name"))
        loud = Shouting("<b>loud</b>")
        plain = tables.Column()

    request = rf.get("/list/?sort=name")
    for language, name in (("en", "Name"), ("zh-hans", "名称")):
        with translation.override(language):
            for verbose_name in (None, "Renamed & <i>", None):
                table = Named([])
                if verbose_name:
                    table.columns["name"].column.verbose_name = verbose_name
                written = header_cells(table, request)
                assert written == engines["django"].from_string(ENGINE_HEADER).render({"table": table}, request)
                assert (">Renamed &amp; &lt;i&gt;</a>" in written) == bool(verbose_name)
                assert (f">{name}</a>" in written) == (not verbose_name)
                assert "&lt;b&gt;loud&lt;/b&gt;!" in written and ">Plain</a>" in written


@pytest.mark.django_db
def test_each_filter_set_has_its_own_filters_bound_to_it(reseller):
    """StrictFilterSet copies its class's filters one level deep: each filter set's filters (and a
    method filter's binding) are its own, and the declared filters stay as declared."""
    from customers.filters import CustomerFilter
    from customers.selectors import customer_list

    first = CustomerFilter({"q": "alpha"}, queryset=customer_list(reseller=reseller))
    second = CustomerFilter({"q": "bravo", "band": "90"}, queryset=customer_list(reseller=reseller))
    first.qs, second.qs  # noqa: B018 - builds each set's form and fields
    for name, declared in CustomerFilter.base_filters.items():
        mine, theirs = first.filters[name], second.filters[name]
        assert mine is not theirs and mine is not declared
        assert mine.parent is first and theirs.parent is second and not hasattr(declared, "parent")
        assert mine.field is not theirs.field and "_field" not in declared.__dict__
        if declared.method is not None:
            assert mine.filter.f is mine and theirs.filter.f is theirs
    assert first.form.cleaned_data["q"] == "alpha" and second.form.cleaned_data["q"] == "bravo"


@pytest.mark.django_db
def test_a_filter_set_class_builds_its_form_class_once_and_each_form_its_own_fields(reseller):
    """StrictFilterSet.get_form_class: one form class per filter set class, whose fields each form
    copies; its labels and choices stay lazy, so each request reads them in its own language."""
    from django.utils import translation

    from customers.filters import CustomerFilter
    from customers.selectors import customer_list

    first = CustomerFilter({"band": "90"}, queryset=customer_list(reseller=reseller))
    second = CustomerFilter({"band": "bogus"}, queryset=customer_list(reseller=reseller))
    assert type(first.form) is type(second.form)
    assert first.form.fields["band"] is not second.form.fields["band"]
    assert first.form.is_valid() and not second.form.is_valid() and "band" in second.form.errors
    assert first.form.cleaned_data["band"] == "90"
    with translation.override("zh-hans"):
        chinese = str(CustomerFilter(None, queryset=customer_list(reseller=reseller)).form["status"])
    english = str(CustomerFilter(None, queryset=customer_list(reseller=reseller)).form["status"])
    assert "All statuses" in english and "All statuses" not in chinese
    # A view may remove a filter before the form is built: that filter set's form has no field for it.
    fewer = CustomerFilter({"band": "90"}, queryset=customer_list(reseller=reseller))
    del fewer.filters["q"]
    assert "q" not in fewer.form.fields and "q" in first.form.fields and type(fewer.form) is not type(first.form)
    again = CustomerFilter(None, queryset=customer_list(reseller=reseller))
    del again.filters["q"]
    assert type(again.form) is type(fewer.form)


def test_sorted_after_read_keeps_the_rows_their_order_and_the_slice(reseller):
    """console.tables.sorted_after_read: every kind of ORDER BY term (a field, descending, pk, a
    related field, an expression with NULLs placed, the model's default ordering) becomes the same
    order of expressions no index gives; the slice stays."""
    from django.db.models import F

    from console.tables import sorted_after_read
    from customers.models import Customer
    from tests.factories import CustomerFactory

    for index in range(7):
        CustomerFactory(reseller=reseller, name=f"Name {index % 3}", remark="" if index % 2 else f"r{index}")
    everyone = Customer.objects.filter(reseller=reseller)
    for ordering in (["name", "-pk"], ["-name", "id"], [F("balance__credit").desc(nulls_last=True), "-uin"],
                     [F("remark").asc(nulls_first=True), "uin"], ["-balance__used", "pk"]):
        ordered = everyone.order_by(*ordering)
        for low, high in ((0, None), (0, 3), (2, 5), (5, None)):
            expected = list(ordered[low:high].values_list("pk", flat=True))
            rewritten = sorted_after_read(ordered[low:high])
            assert list(rewritten.values_list("pk", flat=True)) == expected
            sql = str(rewritten.query)
            assert sql.count("COALESCE") == len(ordering), sql
    # The model's own ordering (bound_at, id; both descending) when the queryset names none; a
    # random order is left alone.
    assert Customer._meta.ordering == ["-bound_at", "-id"]
    rewritten = sorted_after_read(everyone[1:4])
    assert list(rewritten) == list(everyone[1:4]) and str(rewritten.query).count("COALESCE") == 2
    random = everyone.order_by("?")
    assert sorted_after_read(random) is random
