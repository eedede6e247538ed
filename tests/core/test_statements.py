"""core.statements.PreparedStatement: PREPARE once per connection, then EXECUTE; a session that lost
its statements prepares them again (at once with no transaction open; on the next use after a
transaction the error aborted)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.statements import PreparedStatement

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _sent(captured) -> list[str]:
    return [query["sql"].split()[0] for query in captured.captured_queries]


def _value(statement, *params):
    with connection.cursor() as cursor:
        statement.execute(cursor, list(params))
        return cursor.fetchone()[0]


def test_prepared_once_per_connection_then_executed_with_the_values():
    statement = PreparedStatement("SELECT %s::integer + %s::integer")
    with CaptureQueriesContext(connection) as captured:
        assert [_value(statement, 1, 2), _value(statement, 40, 2)] == [3, 42]
    assert _sent(captured) == ["PREPARE", "EXECUTE", "EXECUTE"]
    # Another statement of the same text is the same prepared statement.
    with CaptureQueriesContext(connection) as captured:
        assert _value(PreparedStatement("SELECT %s::integer + %s::integer"), 5, 5) == 10
    assert _sent(captured) == ["EXECUTE"]
    # A new connection prepares it again.
    connection.close()
    with CaptureQueriesContext(connection) as captured:
        assert _value(statement, 2, 2) == 4
    assert _sent(captured) == ["PREPARE", "EXECUTE"]


def test_numbered_text_takes_a_value_twice():
    statement = PreparedStatement(numbered="SELECT $1 * $1 + $2", count=2, types=lambda connection: ("integer", "integer"))
    assert _value(statement, 3, 1) == 10


def test_statements_lost_by_the_session_are_prepared_again():
    first, second = PreparedStatement("SELECT %s::integer + 1"), PreparedStatement("SELECT %s::integer + 2")
    assert (_value(first, 1), _value(second, 1)) == (2, 3)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    # No transaction open: refused, prepared again, sent again.
    with CaptureQueriesContext(connection) as captured:
        assert _value(first, 10) == 11
    assert _sent(captured) == ["EXECUTE", "PREPARE", "EXECUTE"]
    # In a transaction the error has aborted it: raised; the connection's statements are all
    # forgotten, so each is prepared on its next use.
    assert _value(second, 1) == 3  # prepared again before the DEALLOCATE: both are known to the connection
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError), transaction.atomic():
        _value(first, 10)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        assert (_value(second, 10), _value(first, 10)) == (12, 11)
    assert _sent(captured) == ["BEGIN", "PREPARE", "EXECUTE", "PREPARE", "EXECUTE", "COMMIT"]
