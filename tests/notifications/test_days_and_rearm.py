from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kombu.exceptions import OperationalError

from credits.services import credit_allocate, pool_grant, repayment_confirm
from notifications import tasks
from notifications.models import Alert, Delivery, Message
from notifications.services import alerts_sweep, customer_alerts_evaluate, reseller_day

from .conftest import set_usage

pytestmark = pytest.mark.django_db
# 23:59:59 on 26 Nov in UTC+8 is 15:59:59 UTC; one second later it is 27 Nov there.
LAST_SECOND = datetime(2026, 11, 26, 15, 59, 59, tzinfo=UTC)
NEXT_DAY = LAST_SECOND + timedelta(seconds=1)


def evaluate(customer, now):
    return customer_alerts_evaluate(customer_id=customer.pk, now=now)


def test_day_is_counted_in_the_resellers_time_zone():
    assert str(reseller_day("Asia/Shanghai", LAST_SECOND)) == "2026-11-26"
    assert str(reseller_day("Asia/Shanghai", NEXT_DAY)) == "2026-11-27"
    assert str(reseller_day("UTC", NEXT_DAY)) == "2026-11-26"
    assert str(reseller_day("Not/AZone", NEXT_DAY)) == "2026-11-27"  # falls back to the default UTC+8


def test_one_alert_per_day_then_a_reminder_after_midnight_utc8(shop):
    set_usage(shop.customer, used="92.00")
    evaluate(shop.customer, LAST_SECOND - timedelta(hours=10))
    evaluate(shop.customer, LAST_SECOND)  # same day in UTC+8: nothing new
    assert Alert.objects.filter(threshold=90).count() == 1
    evaluate(shop.customer, NEXT_DAY)
    alerts = list(Alert.objects.filter(threshold=90).order_by("day").values_list("day", "reminder"))
    assert [(str(d), r) for d, r in alerts] == [("2026-11-26", False), ("2026-11-27", True)]


def test_reseller_in_utc_counts_its_own_day(shop):
    shop.reseller.time_zone = "UTC"
    shop.reseller.save()
    set_usage(shop.customer, used="92.00")
    evaluate(shop.customer, LAST_SECOND)
    evaluate(shop.customer, NEXT_DAY)  # still 26 Nov in UTC
    assert Alert.objects.filter(threshold=90).count() == 1


def test_daily_reminder_comes_from_the_sweep(shop):
    set_usage(shop.customer, used="100.00")
    alerts_sweep(now=LAST_SECOND)
    alerts_sweep(now=LAST_SECOND + timedelta(minutes=-5))
    alerts_sweep(now=NEXT_DAY)
    alerts_sweep(now=NEXT_DAY + timedelta(minutes=5))
    sent = list(Alert.objects.filter(covered=False).order_by("day").values_list("threshold", "reminder"))
    assert sent == [(100, False), (100, True)]


def test_allocation_rearms_and_tells_the_reseller(shop, enqueued):
    pool_grant(reseller=shop.reseller, amount="1000.00")
    set_usage(shop.customer, credit="0.00", used="0.00")
    credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="100.00")
    set_usage(shop.customer, used="95.00")
    evaluate(shop.customer, LAST_SECOND - timedelta(hours=2))
    with enqueued() as sent:
        credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="100.00")  # 95 of 200 = 47.5 %
    assert sent == [("notifications.tasks.customer_evaluate", (shop.customer.pk,))]
    evaluate(shop.customer, LAST_SECOND - timedelta(hours=1))
    assert Alert.objects.filter(kind="threshold", rearmed_at__isnull=True).count() == 0
    notice = Alert.objects.get(kind="rearmed")
    assert notice.threshold == 75  # back under 75 %, so under 90 % too
    assert set(notice.deliveries.values_list("channel", "recipient_kind")) == {("inbox", "member")}
    # crossing again on a later day is a fresh alert, not a reminder
    set_usage(shop.customer, used="185.00")
    evaluate(shop.customer, NEXT_DAY)
    fresh = Alert.objects.get(kind="threshold", covered=False, day="2026-11-27")
    assert fresh.threshold == 90 and fresh.reminder is False


def run_as_a_worker(sent):
    from partnercenter.celery import app

    for name, args in sent:
        app.tasks[name](*args)


def test_a_repayment_rearms_and_the_notice_reaches_the_members_message_centers(shop, enqueued):
    set_usage(shop.customer, used="95.00")  # of 100.00
    tasks.customer_evaluate(shop.customer.pk)
    assert open_alerts() == {("threshold", 75), ("threshold", 90)}

    with enqueued() as sent:
        repayment_confirm(reseller=shop.reseller, customer=shop.customer, amount="50.00", actor=None,
                          idempotency_key="repay-1")  # 45 of 100
    assert sent == [("notifications.tasks.customer_evaluate", (shop.customer.pk,))]
    with enqueued() as deliveries:
        run_as_a_worker(sent)

    assert open_alerts() == set()
    notice = Alert.objects.get(kind="rearmed")
    assert (notice.threshold, notice.used, notice.available) == (75, Decimal("45.00"), Decimal("55.00"))
    [(task, (delivery_ids,))] = deliveries
    assert task == "notifications.tasks.deliveries_send"
    assert sorted(delivery_ids) == sorted(notice.deliveries.values_list("id", flat=True))
    run_as_a_worker(deliveries)
    assert set(notice.deliveries.values_list("channel", "status")) == {("inbox", "sent")}
    messages = Message.objects.filter(alert=notice)
    assert sorted(messages.values_list("member", flat=True)) == sorted([shop.admin.pk, shop.viewer.pk])
    for message in messages:
        assert message.title == notice.title and f"(UIN {shop.customer.uin}) is back under 75% of its credit" in message.title
        assert "available 55.00 USD" in message.body
        assert "allocation" not in f"{message.title} {message.body}".lower()  # a repayment brought it back


def test_partial_rearm_keeps_the_lower_threshold_open(shop):
    set_usage(shop.customer, used="100.00")
    evaluate(shop.customer, LAST_SECOND - timedelta(hours=3))
    set_usage(shop.customer, credit="120.00")  # 83 %: back under 90 and 100, still above 75
    evaluate(shop.customer, LAST_SECOND - timedelta(hours=2))
    open_thresholds = set(Alert.objects.filter(kind="threshold", rearmed_at__isnull=True).values_list("threshold", flat=True))
    assert open_thresholds == {75}
    assert Alert.objects.get(kind="rearmed").threshold == 90
    assert Delivery.objects.filter(alert__kind="rearmed").count() == 2  # the two members' inboxes


# --- the sweep re-arms what an evaluation missed (issue 8, defect 1) ---------------------------

BROKER_DOWN = OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


def allocate_while_the_broker_is_down(shop, amount, enqueued):
    with enqueued(failing=BROKER_DOWN) as sent:
        credit_allocate(reseller=shop.reseller, customer=shop.customer, amount=amount)
    assert sent == [("notifications.tasks.customer_evaluate", (shop.customer.pk,))]


def sweep(now):
    return alerts_sweep(now=now)


def open_alerts():
    return set(Alert.objects.filter(kind__in=["threshold", "custom"], rearmed_at__isnull=True).values_list("kind", "threshold"))


def test_the_sweep_rearms_a_customer_whose_evaluation_was_lost(shop, enqueued):
    pool_grant(reseller=shop.reseller, amount="1000.00")
    set_usage(shop.customer, used="95.00")
    evaluate(shop.customer, LAST_SECOND - timedelta(hours=3))
    assert open_alerts() == {("threshold", 75), ("threshold", 90)}
    allocate_while_the_broker_is_down(shop, "100.00", enqueued)  # 95 of 200 = 47.5 %
    shop.customer.refresh_from_db()
    assert shop.customer.usage_band == 0  # no longer among the customers the sweep walks
    assert open_alerts() == {("threshold", 75), ("threshold", 90)}

    result = sweep(LAST_SECOND - timedelta(hours=2))

    assert result.rearmed == 2 and open_alerts() == set()
    notice = Alert.objects.get(kind="rearmed")
    assert (notice.threshold, str(notice.day)) == (75, "2026-11-26")
    assert set(notice.deliveries.values_list("channel", "recipient_kind", "status")) == {("inbox", "member", "pending")}
    assert notice.deliveries.count() == 2  # both members' Message Centers, as the per-customer path writes
    again = sweep(LAST_SECOND - timedelta(hours=1))
    assert again.rearmed == 0 and Alert.objects.filter(kind="rearmed").count() == 1


def test_the_sweep_rearms_a_partial_drop_and_keeps_the_lower_threshold_open(shop, enqueued):
    pool_grant(reseller=shop.reseller, amount="1000.00")
    set_usage(shop.customer, used="100.00")
    evaluate(shop.customer, LAST_SECOND - timedelta(hours=3))
    allocate_while_the_broker_is_down(shop, "20.00", enqueued)  # 100 of 120 = 83 %

    sweep(LAST_SECOND - timedelta(hours=2))

    assert open_alerts() == {("threshold", 75)}
    assert Alert.objects.get(kind="rearmed").threshold == 90


def test_the_sweep_rearms_a_custom_warning_the_customer_is_back_above(shop, enqueued):
    pool_grant(reseller=shop.reseller, amount="1000.00")
    shop.customer.custom_warning_percent = 50
    shop.customer.save(update_fields=["custom_warning_percent"])
    set_usage(shop.customer, used="60.00")  # 40 % available, under the 50 % warning
    evaluate(shop.customer, LAST_SECOND - timedelta(hours=3))
    assert open_alerts() == {("custom", 50)}
    allocate_while_the_broker_is_down(shop, "100.00", enqueued)  # 70 % available

    result = sweep(LAST_SECOND - timedelta(hours=2))

    assert result.rearmed == 1 and open_alerts() == set()
    assert not Alert.objects.filter(kind="rearmed").exists()  # re-arm notices are for the default thresholds


def test_the_sweep_keeps_alerts_open_while_the_customer_stays_above(shop):
    set_usage(shop.customer, used="92.00")
    first = sweep(LAST_SECOND - timedelta(hours=1))
    reminder = sweep(NEXT_DAY)
    assert (first.rearmed, reminder.rearmed) == (0, 0)
    assert Alert.objects.filter(kind="threshold", rearmed_at__isnull=True).count() == 4  # 75 covered + 90, two days
    assert Alert.objects.get(kind="threshold", threshold=90, day="2026-11-27").reminder is True
    assert not Alert.objects.filter(kind="rearmed").exists()


@pytest.mark.postgres
def test_the_sweeps_rearm_goes_through_the_partial_index_of_open_alerts(shop):
    from django.db import connection, transaction

    from notifications.services.evaluation import _REARM, _REARMABLE

    statement = _REARM.format(candidates=_REARMABLE, scope="c.id IN (SELECT id FROM rearmable)")
    with transaction.atomic(), connection.cursor() as cursor:
        # As in production, most alerts were re-armed long ago (and are not in the partial index):
        # with a handful of rows and whatever statistics an earlier test in this database left, the
        # planner's choice between two one-page indexes varied from run to run.
        cursor.execute(
            "INSERT INTO notifications_alert (reseller_id, customer_id, kind, threshold, day, covered, reminder, credit, used, "
            "available, created_at, rearmed_at) SELECT %s, %s, 'threshold', 75, DATE '2020-01-01' + n, false, false, 100, 80, "
            "20, %s, %s FROM generate_series(1, 3000) AS n", [shop.reseller.pk, shop.customer.pk, NEXT_DAY, NEXT_DAY])
        cursor.execute("ANALYZE notifications_alert")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: ask whether it can, not whether it would
        cursor.execute("EXPLAIN " + statement, {"now": NEXT_DAY, "reseller": shop.reseller.pk})
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scans = [line for line in plan.splitlines() if "Scan" in line and "on notifications_alert" in line]
    assert scans and all("using alert_open" in line for line in scans), plan
