"""The platform operator's Django admin lists of the tables that grow by millions of rows
(allocation records, usage charges, repayments, alerts, deliveries, messages).

Django's defaults read the whole table for every list page: an exact COUNT(*) (twice, with
show_full_result_count), the model's ordering (created_at, which only per-reseller indexes lead
with), SELECT DISTINCT of a filtered column without choices, date_hierarchy's distinct years, and a
search of `=customer__uin`, which Django 5.2 compares as CAST(uin AS text) so that no index serves
it. LargeTableAdmin avoids each: an estimated count, newest first by primary key, a customer's UIN
searched as a number."""

import json
import math
from functools import cached_property

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections

from core.inputs import uin_or_none


class EstimatedCountPaginator(Paginator):
    """Counts at most `cap` rows; beyond that the count is PostgreSQL's estimate and `estimated`
    is set (the admin's pagination says "about"), and the pages stop at cap / per_page (filters
    narrow the list; a page a million rows deep would read them all). An unfiltered list takes the
    table's size from the statistics autovacuum keeps (pg_class.reltuples, its partitions' summed
    when it has any); a filtered one the planner's estimate of the query, and counts only when
    that is within the cap."""

    cap = 10_000
    estimated = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list.order_by()  # any order has as many rows
        connection = connections[queryset.db]
        if connection.vendor == "postgresql":
            if queryset.query.where:
                total = _plan_estimate(connection, queryset)
            else:
                total = _table_estimate(connection, queryset.model._meta.db_table)
            if total > self.cap:
                self.estimated = True
                return total
        counted = queryset[: self.cap + 1].count()
        if counted > self.cap:
            self.estimated = True
        return counted

    @cached_property
    def num_pages(self) -> int:
        pages = super().num_pages
        return min(pages, max(1, math.ceil(self.cap / self.per_page))) if self.estimated else pages


def _table_estimate(connection, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_class c WHERE c.oid = %s::regclass"
            " OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
            [table, table],
        )
        return int(cursor.fetchone()[0])


def _plan_estimate(connection, queryset) -> int:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class LargeTableAdmin(admin.ModelAdmin):
    """A read-mostly list of millions of rows that opens in well under a second: estimated counts,
    newest first by primary key, no sorting by columns no index leads with, and a search that takes
    a customer's UIN (exact, through the customer's unique index) and otherwise the `search_fields`,
    which must be served by an index (the customer's name has a trigram one)."""

    paginator = EstimatedCountPaginator
    # The admin renders every cell through display_for_field (localised numbers and dates, a
    # reversed link per row): about 3 ms a row here, so 50 rows a page rather than 100.
    list_per_page = 50
    show_full_result_count = False
    ordering = ["-id"]
    sortable_by = []
    # The path from the listed model to the customer's UIN.
    customer_uin_lookup = "customer__uin"

    def get_search_results(self, request, queryset, search_term):
        uin = uin_or_none(search_term)
        if uin is not None:
            return queryset.filter(**{self.customer_uin_lookup: uin}), False
        return super().get_search_results(request, queryset, search_term)
