"""Querysets of a fixed shape that run on every request, compiled once per process.

Django compiles a queryset's SQL each time it runs it. For the few reads every console request
sends whatever the page (the signed-in user with its membership and reseller: five tables joined),
compiling cost more than the database took to answer. A PreparedQuery builds its queryset once per
database connection from sample values, keeps the SQL and where each sample value sits among its
parameters, and then sends that SQL with the request's values, turning the rows into model instances
as Django's ModelIterable does (select_related objects and their caches included).

A queryset qualifies when only its values change from one call to the next, never its shape: no
prefetch_related, no known related objects, no value that Django writes into the SQL itself. Each
sample value must appear exactly once among the compiled parameters (checked when it compiles).
tests/core/test_prepared.py compares the objects with those the ORM gives."""

from django.db import connections
from django.db.models.query import get_related_populators


class PreparedQuery:
    def __init__(self, queryset_for, **samples):
        """`queryset_for(**values)` returns the queryset for those values; `samples` are values of
        the same types, distinct from any other parameter the queryset has."""
        self._queryset_for = queryset_for
        self._samples = samples

    def _prepare(self, alias: str, connection) -> "_Prepared":
        queryset = self._queryset_for(**self._samples)
        if queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise ValueError("A PreparedQuery's queryset cannot prefetch or carry known related objects.")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if compiler.has_composite_fields([column[0] for column in compiler.select[0:compiler.col_count]]):
            raise ValueError("A PreparedQuery's queryset cannot select a composite primary key.")
        slots = {name: _slot(name, sample, params) for name, sample in self._samples.items()}
        prepared = _Prepared(alias, compiler, sql, list(params), slots)
        # Kept on the connection (one per thread and alias), as the compiler's converters are bound
        # to it: they go with it, and no other thread's connection ever runs them.
        connection.__dict__.setdefault("prepared_queries", {})[self] = prepared
        return prepared

    def all(self, *, using: str = "default", **values) -> list:
        """The model instances the queryset for `values` would give, in its order."""
        connection = connections[using]
        prepared = connection.__dict__.get("prepared_queries", {}).get(self) or self._prepare(using, connection)
        return prepared.run(connection, values)


class PreparedValue:
    """One value a read gives (a count), for reads every request sends: the ORM runs it once per
    connection with the sample values, its statement is kept, and then sent with the request's
    values. The value is the first column of the first row, as the database gives it (the ORM adds
    no conversion to a count)."""

    def __init__(self, value_for, **samples):
        self._value_for = value_for
        self._samples = samples

    def _prepare(self, alias: str, connection) -> tuple[str, list, dict]:
        statements = []

        def record(execute, sql, params, many, context):
            statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            self._value_for(using=alias, **self._samples)
        if len(statements) != 1:
            raise ValueError("A PreparedValue's read must send exactly one statement.")
        sql, params = statements[0]
        params = list(params or ())
        slots = {name: _slot(name, sample, params) for name, sample in self._samples.items()}
        prepared = (sql, params, slots)
        connection.__dict__.setdefault("prepared_queries", {})[self] = prepared
        return prepared

    def get(self, *, using: str = "default", **values):
        connection = connections[using]
        sql, params, slots = connection.__dict__.get("prepared_queries", {}).get(self) or self._prepare(using, connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, _fill(params, slots, values))
            return cursor.fetchone()[0]


def _slot(name: str, sample, params) -> tuple[int, type]:
    """Where the sample value sits among the parameters, and the type the backend gave it there (a
    bigint is psycopg's Int8 on PostgreSQL, a subclass of int): a request's value gets the same."""
    found = [index for index, param in enumerate(params) if isinstance(param, type(sample)) and param == sample]
    if len(found) != 1:
        raise ValueError(f"The sample value of {name!r} must be among the parameters exactly once.")
    return found[0], type(params[found[0]])


def _fill(params: list, slots: dict, values: dict) -> list:
    params = list(params)
    for name, (index, kind) in slots.items():
        value = values[name]
        params[index] = value if type(value) is kind else kind(value)
    return params


class _Prepared:
    def __init__(self, alias, compiler, sql, params, slots):
        self.alias, self.sql, self.params, self.slots = alias, sql, params, slots
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        select_fields = klass_info["select_fields"]
        self.start, self.end = select_fields[0], select_fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start:self.end]]
        self.annotations = dict(compiler.annotation_col_map or {})
        # Bound to the compiler (its connection's operations): used only with that connection.
        self.converters = compiler.get_converters([column[0] for column in select[0:compiler.col_count]])
        self.apply_converters = compiler.apply_converters
        self.related_populators = get_related_populators(klass_info, select, alias)

    def run(self, connection, values: dict) -> list:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, _fill(self.params, self.slots, values))
            rows = cursor.fetchall()
        if self.converters:
            rows = self.apply_converters(rows, self.converters)
        objects = []
        for row in rows:
            obj = self.model.from_db(self.alias, self.init_list, row[self.start:self.end])
            for populator in self.related_populators:
                populator.populate(row, obj)
            for name, position in self.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects
