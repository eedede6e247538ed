"""Statements of a fixed text that every API request sends, prepared once per database connection.

PostgreSQL parses and plans a statement each time it is sent, and for the short statements of an
API request (the key's four-table read, the signature's claim, the customer by UIN) that cost about
as much as running them. A PreparedStatement is sent as PREPARE once on each connection, then as
EXECUTE with the values, so the server keeps its plan. On SQLite the statement is sent as it is.

Which connections have which statements is kept per psycopg connection (a new connection, after
CONN_MAX_AGE or an error, prepares them again). If a session loses them anyway (DISCARD ALL or
DEALLOCATE ALL, which nothing here sends: only an external pooler would), the EXECUTE fails with
invalid_sql_statement_name; the connection is then forgotten, so every statement is prepared again
on its next use, and the statement is sent again at once when no transaction is open. Inside a
transaction, which the error has aborted, the error is raised.

A pooler between the web processes and PostgreSQL must keep each client on one server session
(PgBouncer's pool_mode = session); in transaction mode a session's prepared statements do not
follow the client (README, Deploying)."""

import hashlib
import weakref
from collections.abc import Callable

from django.db import DatabaseError

_NOT_PREPARED, _ALREADY_PREPARED = "26000", "42P05"  # invalid_sql_statement_name, duplicate_prepared_statement

# psycopg connection -> the names prepared on it.
_PREPARED: "weakref.WeakKeyDictionary[object, set[str]]" = weakref.WeakKeyDictionary()


def _sqlstate(error: DatabaseError) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _in_transaction(connection) -> bool:
    # Where an error has aborted the transaction: nothing more can be sent until it rolls back.
    return connection.in_atomic_block or not connection.get_autocommit()


class PreparedStatement:
    def __init__(self, sql: str | None = None, *, numbered: str | None = None, count: int = 0,
                 types: Callable[[object], tuple[str, ...]] | None = None):
        """`sql` with %s placeholders, as cursor.execute takes it (and as it is sent on SQLite);
        or, for PostgreSQL only, `numbered`: the text with PostgreSQL's $1…$n, and `count`, how
        many there are (a value used twice is one $n). `types(connection)` gives the parameters'
        types where PostgreSQL cannot infer them from the text."""
        if numbered is None:
            count = sql.count("%s")
            numbered = sql % tuple(f"${n}" for n in range(1, count + 1))
        self.sql = sql
        self.numbered = numbered
        self.types = types
        digest = hashlib.sha256(numbered.encode()).hexdigest()[:16]
        # The name carries a digest of the text: a connection never runs another version's by it.
        self.name = f"pc_{digest}"
        self._execute = f"EXECUTE {self.name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {self.name}"

    def execute(self, cursor, params=()) -> None:
        """Send the statement with `params` on `cursor` (a Django cursor); read rows from it after."""
        connection = cursor.db
        if connection.vendor != "postgresql":
            cursor.execute(self.sql, params)
            return
        raw = connection.connection
        names = _PREPARED.setdefault(raw, set())
        if self.name not in names:
            self._prepare(cursor)
            names.add(self.name)
        try:
            cursor.execute(self._execute, params or None)
        except DatabaseError as error:
            if _sqlstate(error) != _NOT_PREPARED:
                raise
            _PREPARED.pop(raw, None)
            if _in_transaction(connection):
                raise
            self._prepare(cursor)
            _PREPARED.setdefault(raw, set()).add(self.name)
            cursor.execute(self._execute, params or None)

    def _prepare(self, cursor) -> None:
        types = f" ({', '.join(self.types(cursor.db))})" if self.types else ""
        try:
            # No parameters: the text is sent as it is.
            cursor.execute(f"PREPARE {self.name}{types} AS {self.numbered}")
        except DatabaseError as error:
            # Prepared already (by a statement of the same text): in a transaction the error
            # has aborted it, so only outside one is that taken as done.
            if _sqlstate(error) != _ALREADY_PREPARED or _in_transaction(cursor.db):
                raise
