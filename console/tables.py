"""Tables of the console: page sizes, sorting and pagination from the query string, a paginator
that never counts a million rows, the attributes of a number column, and row links.

A table whose rows are on every page load and whose cells are many (My Customers, Allocation
Records) writes its rows itself (`renders_rows = True` and `render_row(record)`): through the
template engine each row cost about 1 ms (30 variables, filters, a meter and eight links), and 20
rows several times the page's SQL (see bench/console.py). They are f-strings of values escaped with
the standard library's html.escape (what django.utils.html.escape calls, without its lazy-string
wrapper, which alone cost a tenth of a millisecond a row) and texts translated once per table."""

import copy
from functools import cache, cached_property, lru_cache
from html import escape
from urllib.parse import quote_plus, urlencode

import django_tables2 as tables
from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import F, OrderBy, QuerySet
from django.db.models.functions import Coalesce
from django.db.models.query import ValuesListIterable
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.http import urlencode as urlencode_query
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django_tables2.templatetags.django_tables2 import table_page_range

from core.kept_texts import language_key
from core.rules import FULL, THRESHOLDS, used_percent, used_percent_text, used_percent_texts

# Query parameters that arrange a list without narrowing it: the rest are its search and filters.
ARRANGING = frozenset({"sort", "page", "per_page"})

PAGE_SIZES = (10, 20, 50, 100)
DEFAULT_PAGE_SIZE = 20
NUMBER = {"th": {"class": "num"}, "td": {"class": "num"}}


class _ColumnsCopiedOneLevel(dict):
    """A table class's columns, which each table made from it copies: one level deep (a copy of
    each column) rather than django-tables2's deepcopy, which walked every column's attributes,
    order_by and verbose names and cost about as much as writing a page of rows. What a table
    changes on its columns (visible, accessor, the cell being written) it sets on its own copy;
    nothing changes a column's attrs, order_by or texts in place."""

    def __deepcopy__(self, memo):
        return {name: copy.copy(column) for name, column in self.items()}


class ConsoleTable(tables.Table):
    """The console's tables: django-tables2's Table, each instance copying its columns one level
    deep. A table whose `page_rows` is set reads the page it shows through it: a function turning
    the page's queryset (sorted and sliced as the table has it) into one giving plain rows
    (`values_rows`), which its render_row writes. The count stays the queryset's own."""

    page_rows = None
    # Set by a view whose filter the planner can only guess the rows of (a search: LIKE patterns
    # over trigram indexes, estimated from the column histograms ANALYZE sampled): a page of at most
    # SORT_AFTER_READ_MAX rows found is then read whole and sorted (sorted_after_read).
    # Such a search is also counted only up to SEARCH_COUNT_CAP rows (CappedCountPaginator).
    searched = False

    @property
    def page(self):
        try:
            return self.__dict__["_page"]
        except KeyError:
            raise AttributeError("page") from None  # not paginated: django-tables2 asks hasattr(table, "page")

    @page.setter
    def page(self, page):
        rows = getattr(page, "object_list", None)  # BoundRows over the queryset sliced to the page
        if isinstance(getattr(rows, "data", None), QuerySet):
            count = page.paginator.count
            if count == 0:
                rows.data = []  # counted empty: nothing to read (the page's "if" and its rows asked twice)
            else:
                if self.searched and count <= SORT_AFTER_READ_MAX and not getattr(page.paginator, "more", False):
                    rows.data = sorted_after_read(rows.data)
                if self.page_rows is not None:
                    rows.data = type(self).page_rows(rows.data)
        self.__dict__["_page"] = page

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.base_columns = _ColumnsCopiedOneLevel(cls.base_columns)


# See ConsoleTable.searched. Reading and sorting 1,000 rows found through an index takes about
# a millisecond; walking an index in the list's order for a page of a filter that matches 1,000 of
# 1,000,000 rows reads 20,000 rows on average.
SORT_AFTER_READ_MAX = 1000
# A search's count (ConsoleTable.searched): "1–20 of 1000+" beyond it. A search is counted by
# reading and testing rows (a LIKE on names, remarks and e-mails: no index counts it), so the count
# costs as many rows as its cap: 10,000 'Games' among 100,000 customers took 18-25 ms of a 30 ms page,
# 1,000 about 2 ms. Its last reachable page is the 50th of 20 rows; a narrower search finds the rest.
SEARCH_COUNT_CAP = 1000


def _unindexed(expression):
    # COALESCE(x, x) is x, and PostgreSQL's planner neither simplifies it nor finds an index that
    # gives rows in its order.
    return Coalesce(expression, expression)


def sorted_after_read(queryset: QuerySet) -> QuerySet:
    """The same rows in the same order (and the same slice), sorted by expressions no index gives,
    so that the planner reads every row the filter finds and sorts them instead of walking an index
    in the list's order and filtering as it goes. That walk is its choice for a page whenever it
    believes the filter matches many rows: for a search, whenever one of the 100 values ANALYZE kept
    of a column happens to contain the search term. The search '0421' (129 of 100,000 customers)
    then read 42,000 rows, 39 ms, against 0.5 ms for the found rows sorted (after 6 of 40
    ANALYZEs of the benchmark's 100,000 customers)."""
    query = queryset.query
    ordering = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
    terms = []
    for term in ordering:
        if isinstance(term, str):
            if term == "?":
                return queryset
            terms.append(OrderBy(_unindexed(F(term.lstrip("-"))), descending=term.startswith("-")))
        elif isinstance(term, OrderBy):
            terms.append(OrderBy(_unindexed(term.expression), descending=term.descending,
                                 nulls_first=term.nulls_first, nulls_last=term.nulls_last))
        else:
            terms.append(_unindexed(term))
    low, high = query.low_mark, query.high_mark
    unsliced = queryset._chain()
    unsliced.query.clear_limits()
    return unsliced.order_by(*terms)[low:high]


@cache
def _iterable_of(row_class):
    class RowsIterable(ValuesListIterable):
        def __iter__(self):
            return map(row_class._make, super().__iter__())

    return RowsIterable


def values_rows(queryset, row_class, fields):
    """`queryset` giving `row_class(*values)` (a namedtuple class) for `fields`, read with
    values_list, instead of model instances: building a model instance, and another for each
    related object, cost a page of rows about as much as its SQL (bench/console.py). It can still
    be filtered, sorted, sliced and counted like any queryset."""
    rows = queryset.values_list(*fields)
    rows._iterable_class = _iterable_of(row_class)
    return rows


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows, so a page of a million-row ledger never waits for a full COUNT(*).

    Beyond the cap the page says "10,000+" and the last reachable page is cap / per_page; filters
    narrow the list (and the CSV export always has every row)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        table = getattr(self.object_list, "table", None)
        if getattr(table, "searched", False):
            self.cap = SEARCH_COUNT_CAP
        # object_list is django-tables2's BoundRows around TableQuerysetData around the QuerySet.
        queryset = getattr(getattr(self.object_list, "data", None), "data", self.object_list)
        # A table whose sort narrows its query only to reach an index (a join, say) names the
        # unsorted rows to count instead (customers.tables.CustomerTable._order_by_balance).
        queryset = getattr(queryset, "count_source", queryset)
        # A table may name rows as many as its own that an index counts alone (My Customers filtered
        # on the balance only: the balances, customers.views.customer_list), or a function counting
        # them up to a limit.
        counted_instead = getattr(table, "count_source", None)
        if callable(counted_instead):
            counted = counted_instead(limit=self.cap + 1)
        else:
            if counted_instead is not None:
                queryset = counted_instead
            # Without its ORDER BY: the first cap + 1 rows in any order are as many, and a sort the
            # index does not fully give (available, then id) would read and sort every row first.
            counted = queryset.order_by()[: self.cap + 1].count()
        self.more = counted > self.cap
        return min(counted, self.cap)

    more = False


def configure_table(request, table, *, paginator_class=Paginator):
    """Sorting and pagination from the query string. Unlike django-tables2's RequestConfig the page
    size is one of PAGE_SIZES, so `?per_page=100000` cannot load the whole list."""
    table.request = request
    sort = request.GET.getlist("sort")
    if sort:
        table.order_by = sort  # django-tables2 drops unknown and non-sortable columns
    try:
        per_page = int(request.GET.get("per_page", DEFAULT_PAGE_SIZE))
    except ValueError:
        per_page = DEFAULT_PAGE_SIZE
    if per_page not in PAGE_SIZES:
        per_page = DEFAULT_PAGE_SIZE
    try:
        table.paginate(paginator_class, per_page=per_page, page=request.GET.get("page") or 1)
    except PageNotAnInteger:
        table.paginate(paginator_class, per_page=per_page, page=1)
    except EmptyPage:
        table.page = table.paginator.page(table.paginator.num_pages)
    table.page_sizes = PAGE_SIZES
    return table


def header_cells(table, request) -> str:
    """The <th> of each of the table's columns, a sortable one with its sort link (the query string
    with this column's next sort and without the page), as templates/tables/table.html wrote them
    through the template engine with django-tables2's querystring_replace: the same bytes (tests),
    written in Python because thirteen columns of attributes, conditions and query strings cost the
    list pages about as much as their rows."""
    order_field, page_field = table.prefixed_order_by_field, table.prefixed_page_field
    sort_link = _query_link_writer(request.GET, order_field, drop=page_field)
    table_own = [table.attrs.get(name) for name in ("th", "cell")]
    table_declared = table_own == [table._meta.attrs.get(name) for name in ("th", "cell")]
    language = language_key()
    cells = []
    for column in table.columns:
        ordered = column.is_ordered
        descending = ordered and column.order_by_alias.is_descending
        header = _header_text(column, language)
        if column.orderable:
            state = (" sorted desc" if descending else " sorted asc") if ordered else ""
            header = f'<a class="sort{state}" href="{sort_link(column.order_by_alias.next)}">{header}</a>'
        sort = f' aria-sort="{"descending" if descending else "ascending"}"' if ordered else ""
        th = _th_attributes(table, table_own, table_declared, column, ordered, descending)
        cells.append(f'\n      <th {th} scope="col"{sort}>\n        {header}\n      </th>\n    ')
    return mark_safe("".join(cells))


# A column's header, escaped, for each language (core.kept_texts.language_key), by its declared
# verbose name (kept with it: an id is only looked at while its object lives). django-tables2's BoundColumn.header gives a declared
# verbose name as it is, and writing a translated one (a lazy text: the translation looked up, then
# escaped through another lazy wrapper) cost a list page about a tenth of its SQL per dozen columns.
_HEADERS: dict = {}


def _header_text(column, language: tuple) -> str:
    declared = column.column.verbose_name
    if declared is None or type(column.column).header is not tables.Column.header:
        return conditional_escape(column.header)  # the model field's name, or a column's own header
    kept = _HEADERS.get((id(declared), language))
    if kept is not None and kept[0] is declared:
        return kept[1]
    text = conditional_escape(column.header)
    _HEADERS[(id(declared), language)] = (declared, text)
    return text


def pager_links(table, request) -> str:
    """The pager's page links (the previous page, up to ten numbered pages with gaps as
    django-tables2's table_page_range gives them, the next page), each the query string with its
    page, as templates/tables/table.html wrote them with querystring_replace: written in Python, as
    ten links through the template engine cost a list page about a tenth of its time. Empty when
    there is one page."""
    paginator, page = table.paginator, table.page
    if paginator.num_pages <= 1:
        return ""
    href = _query_link_writer(request.GET, table.prefixed_page_field)
    if page.has_previous():
        label = escape(gettext("Previous page"))
        previous = f'<a href="{href(page.previous_page_number())}" rel="prev" aria-label="{label}">‹</a>'
    else:
        previous = '<span class="disabled" aria-hidden="true">‹</span>'
    if page.has_next():
        label = escape(gettext("Next page"))
        following = f'<a href="{href(page.next_page_number())}" rel="next" aria-label="{label}">›</a>'
    else:
        following = '<span class="disabled" aria-hidden="true">›</span>'
    items = []
    for number in table_page_range(page, paginator):
        if number == "...":
            items.append('<span class="gap">…</span>')
        elif number == page.number:
            items.append(f'<span class="current" aria-current="page">{escape(localize(number))}</span>')
        else:
            items.append(f'<a href="{href(number)}">{escape(localize(number))}</a>')
    links = "".join(f"\n      <li>{item}</li>\n    " for item in items)
    return mark_safe(f"\n  <ul>\n    <li>{previous}</li>\n    {links}\n    <li>{following}</li>\n  </ul>\n  ")


# The attributes of a column's <th> (django-tables2's BoundColumn.attrs, its classes for sorting
# included) for each table class, column and sort state: building them cost a list page about as
# much as a tenth of its SQL. Kept only when they come from declared values alone: no callable
# attribute, and the table's own "th" and "cell" attrs its class's.
_TH_ATTRIBUTES: dict = {}


def _th_attributes(table, table_own: list, table_declared: bool, column, ordered: bool, descending: bool) -> str:
    # What BoundColumn.attrs reads for a <th>: the table's and the column's "th" or "cell"
    # (`table_own`: the table's, `table_declared`: whether they are its class's).
    sources = [*table_own, *(column.column.attrs.get(name) for name in ("th", "cell"))]
    declared = table_declared and not any(callable(value) for attrs in sources if attrs for value in attrs.values())
    if not declared:
        return column.attrs["th"].as_html()
    key = (type(table), column.name, id(column.column.attrs), column.orderable, ordered, descending)
    html = _TH_ATTRIBUTES.get(key)
    if html is None:
        html = _TH_ATTRIBUTES[key] = column.attrs["th"].as_html()
    return html


def _query_link_writer(get, field, drop=None):
    """A function of a value giving the link to this list with `field` set to it and `drop` left
    out, escaped, as querystring_replace writes it (django.utils.http.urlencode of the query with
    the field set, then `drop` dropped): a sort header's link (the sort set, the page dropped) or a
    pager's (the page set). The links differ only in that value, so the rest of the query string is
    encoded once, on each side of the field's place: where the query has it already, else at the
    end. With no field (a table without sorting or paging names) every link is the query's own."""
    params = dict(get)
    params.pop(drop, None)
    if field in ("", None):
        fixed = escape("?" + urlencode_query(params, doseq=True))
        return lambda value: fixed
    keys = list(params)
    at = keys.index(field) if field in params else len(keys)
    before = urlencode_query({key: params[key] for key in keys[:at]}, doseq=True)
    after = urlencode_query({key: params[key] for key in keys[at + 1:]}, doseq=True)
    name = quote_plus(str(field))

    def link(value) -> str:
        return escape("?" + "&".join(part for part in (before, f"{name}={quote_plus(str(value))}", after) if part))

    return link


def without(query, *names) -> str:
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


# A number no route is ever reversed with: it marks where a row's own argument goes (a table may
# write a row's links with it once, then put each row's argument in its place).
ARGUMENT_MARK = "918273645546372819"


@lru_cache(maxsize=256)
def _url_pattern(name: str, urlconf: str, prefix: str) -> str:
    return reverse(name, urlconf=urlconf, args=[int(ARGUMENT_MARK)])


def row_url(name: str, argument) -> str:
    """The URL of route `name` for one whole-number argument (a UIN), as reverse() gives it, but
    reversed once per process and route and then filled in: a page of 100 customers links each row
    to eight routes, and 800 trips through the URL resolver cost more than the page's SQL."""
    return RowLinks(name)[name](argument)


class RowLinks:
    """The URLs of routes taking one whole number, for many rows: `links = RowLinks("a:b", ...)`
    once per table, then `links["a:b"](uin)` per row (a string replacement)."""

    def __init__(self, *names: str):
        urlconf, prefix = get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()
        self._patterns = {name: _url_pattern(name, urlconf, prefix) for name in names}

    def __getitem__(self, name: str):
        pattern = self._patterns[name]
        return lambda argument: pattern.replace(ARGUMENT_MARK, str(int(argument)))


def usage_meter_texts() -> dict:
    """The translated texts usage_meter writes, for a caller writing many meters (a table's rows)."""
    return {
        "percent": used_percent_texts(),
        "used": gettext("Used %(text)s"),
        "used_no_credit": escape(gettext("Used with no credit")),
        "no_credit": escape(gettext("no credit")),
    }


def usage_meter(used, credit, band, texts: dict | None = None) -> str:
    """Used % of credit as a meter and its text, both coloured by `band` (the stored usage band,
    which the usage filter and the Overview's counts read too): one colour rule, the `band-N`
    classes of console.css. The meter's `low` and `high` (the first two thresholds) only tell
    assistive technology which range the value is in.
    Written in Python rather than as an inclusion template: My Customers shows it on every row.
    Every value in it is a number or a translated text, escaped. `texts`: usage_meter_texts() of
    the active language, made once for many meters."""
    percent = used_percent(used, credit)
    if percent is None and not used > 0:
        return mark_safe('<span class="muted">—</span>')
    texts = texts or usage_meter_texts()
    plain = used_percent_text(used, credit, texts["percent"])
    text = escape(plain)
    # A meter stops at its max: over 100 % shows full, and its text says how far over.
    value = FULL if percent is None or percent >= FULL else percent
    high = THRESHOLDS[1] if len(THRESHOLDS) > 1 else FULL
    if percent is not None:
        label = escape(texts["used"] % {"text": plain})
        caption = f'<span class="usage-text num band-{int(band)}">{text}</span>'
    else:
        label = texts["used_no_credit"]
        caption = f'<span class="usage-text band-{FULL}">{texts["no_credit"]}</span>'
    return mark_safe(
        f'<span class="usage band-{int(band)}"><meter min="0" max="{FULL}" low="{THRESHOLDS[0]}" high="{high}" optimum="0" '
        f'value="{value}" aria-label="{label}">{text}</meter>{caption}</span>'
    )


def empty_state(table, request) -> dict:
    """What an empty table says (issue 14): why it is empty, and what to do.

    Narrowed by a search or filter: the table's `empty_text` ("No customers match these filters."),
    a hint to clear them, and a link to the list without them (the sort kept). Otherwise its
    `empty_unfiltered_text` and `empty_unfiltered_hint`, and its `empty_action` (url, label) when
    it has one: how the list gets its first row."""
    narrowed = any(value.strip() for key, values in request.GET.lists() if key not in ARRANGING for value in values)
    if narrowed:
        keep = urlencode([("sort", sort) for sort in request.GET.getlist("sort")])
        return {
            "title": table.empty_text,
            "hint": gettext("Change the search or filters, or clear them to see the whole list."),
            "action_url": request.path + (f"?{keep}" if keep else ""),
            "action_label": gettext("Clear search and filters"),
        }
    action = getattr(table, "empty_action", None)
    return {
        "title": getattr(table, "empty_unfiltered_text", None) or table.empty_text,
        "hint": getattr(table, "empty_unfiltered_hint", ""),
        "action_url": action[0] if action else "",
        "action_label": action[1] if action else "",
    }
