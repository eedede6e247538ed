"""Lists of ids as one SQL parameter, on PostgreSQL (an array) and on SQLite (a JSON array)."""

import json

from django.db import connection


def in_ids(column: str, name: str = "ids") -> str:
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%({name})s)"
    return f"{column} IN (SELECT value FROM json_each(%({name})s))"


def ids_param(ids) -> object:
    ids = [int(i) for i in ids]
    return ids if connection.vendor == "postgresql" else json.dumps(ids)
