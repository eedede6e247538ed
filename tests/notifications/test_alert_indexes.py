"""A customer's alerts (its customer page and alert history) are read through an index, however many
alerts the other customers have: the unique key cannot serve them, being partial (status alerts may
repeat in a day)."""

import pytest
from django.db import connection, transaction

from notifications.selectors import customer_alert_history
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_a_customers_alert_history_is_read_through_alert_customer_time():
    customer = CustomerFactory()
    query = customer_alert_history(reseller=customer.reseller, customer=customer)[:10]
    sql, params = query.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # A handful of rows: ask whether it can read them in order from an index, not whether it would.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scans = [line for line in plan.splitlines() if "Scan" in line and "on notifications_alert" in line]
    assert scans and all("using alert_customer_time" in line for line in scans), plan
    assert "Sort" not in plan, plan  # newest first straight from the index
