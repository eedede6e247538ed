"""Tables of the console: page sizes, sorting and pagination from the query string, a paginator
that never counts a million rows, and the attributes of a number column."""

from functools import cached_property

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator

PAGE_SIZES = (10, 20, 50, 100)
DEFAULT_PAGE_SIZE = 20
NUMBER = {"th": {"class": "num"}, "td": {"class": "num"}}


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows, so a page of a million-row ledger never waits for a full COUNT(*).

    Beyond the cap the page says "10,000+" and the last reachable page is cap / per_page; filters
    narrow the list (and the CSV export always has every row)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # object_list is django-tables2's BoundRows around TableQuerysetData around the QuerySet.
        queryset = getattr(getattr(self.object_list, "data", None), "data", self.object_list)
        counted = queryset[: self.cap + 1].count()
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


def without(query, *names) -> str:
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
