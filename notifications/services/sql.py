"""Lists of ids as one SQL parameter, on PostgreSQL (an array) and on SQLite (a JSON array)."""

import json

from django.db import connection


def in_ids(column: str, name: str = "ids") -> str:
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%({name})s::bigint[])"
    return f"{column} IN (SELECT value FROM json_each(%({name})s))"


def ids_param(ids) -> str:
    """The ids for in_ids (or any `= ANY(%s::bigint[])`): on PostgreSQL one array literal,
    '{1,2,3}', which the server reads (psycopg quoted a list element by element in Python: for the
    25,000 ids of a sweep batch's statements, about 16 ms of the batch's Python); on SQLite a JSON
    array."""
    ids = [int(i) for i in ids]
    if connection.vendor == "postgresql":
        return "{" + ",".join(map(str, ids)) + "}"
    return json.dumps(ids)
