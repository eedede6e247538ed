"""The statements that claim, mark and give back one delivery find it by its id, however the
planner sees delivery_unfinished (pending and sending). That partial index is a queue's: VACUUM
finds it empty between bursts and records 0 rows on its pages, and until the next VACUUM or ANALYZE
the planner believes it empty however far a burst has grown it. "status = 'sending' AND id = …"
then scanned every unfinished delivery (30 ms a mark at 250,000 pending e-mails, one mark per
e-mail): the bench's e-mail throughput fell to 9–30 e-mails/s whenever its sweep had filled the
index after the last ANALYZE."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import Delivery
from notifications.services import customer_alerts_evaluate, delivery_attempt, outbox
from notifications.transports import TransportError

from .conftest import set_usage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]  # VACUUM


def after_a_burst(alert_id: int) -> None:
    """What the statistics say in a burst: VACUUM ran while the queue was empty, recording the
    index's pages with no row on them; then 20,000 deliveries became pending (and this alert's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_delivery (alert_id, recipient_kind, recipient_key, channel, address, status,"
            " attempts, last_error, created_at, next_attempt_at, sent_at, provider_ref)"
            " SELECT %s, 'contact', 'burst-' || g, 'email', '', 'sent', 1, '', now(), now(), now(), ''"
            " FROM generate_series(1, 20000) g", [alert_id])
        cursor.execute("UPDATE notifications_delivery SET status = 'pending', sent_at = NULL")
        cursor.execute("UPDATE notifications_delivery SET status = 'sent', sent_at = now()")
        cursor.execute("VACUUM (ANALYZE) notifications_delivery")
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'delivery_unfinished'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("UPDATE notifications_delivery SET status = 'pending', sent_at = NULL, next_attempt_at = "
                       "CASE WHEN recipient_key LIKE 'burst-%%' THEN now() + interval '1 hour' ELSE now() END")


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def delivery_statements(run) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    statements = [q["sql"] for q in captured.captured_queries
                  if "notifications_delivery" in q["sql"].split(" WHERE ")[0] and " WHERE " in q["sql"]
                  and q["sql"].lstrip().upper().startswith(("UPDATE", "SELECT"))]
    assert statements
    return statements


@pytest.fixture
def pending(shop):
    set_usage(shop.customer, used="91.00")
    customer_alerts_evaluate(customer_id=shop.customer.pk)
    emails = list(Delivery.objects.filter(channel="email").order_by("id"))
    after_a_burst(emails[0].alert_id)
    return emails


def test_the_hazard_is_real_a_plain_status_filter_scans_the_queue_index(pending):
    now = timezone.now()
    sql = (f"UPDATE notifications_delivery SET status = 'sent' WHERE id = {pending[0].pk} "
           f"AND status = 'sending' AND claimed_at = '{now.isoformat()}'")
    assert "delivery_unfinished" in plan(sql)


def test_claim_read_and_mark_sent_look_the_delivery_up_by_its_id(pending):
    statements = delivery_statements(lambda: delivery_attempt(delivery_id=pending[0].pk))
    assert Delivery.objects.get(pk=pending[0].pk).status == "sent"
    assert len(statements) >= 3  # the claim, its read, the mark
    for sql in statements:
        explained = plan(sql)
        assert "delivery_unfinished" not in explained and "notifications_delivery_pkey" in explained, (sql, explained)


def test_a_chunk_and_a_transient_failure_look_their_deliveries_up_by_id(pending):
    class Failing:
        def send(self, delivery):
            raise TransportError("server busy")

    ids = [d.pk for d in pending]
    statements = delivery_statements(lambda: outbox.deliveries_attempt(delivery_ids=ids, transport=Failing()))
    assert set(Delivery.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"pending"}
    for sql in statements:
        explained = plan(sql)
        assert "delivery_unfinished" not in explained and "notifications_delivery_pkey" in explained, (sql, explained)
