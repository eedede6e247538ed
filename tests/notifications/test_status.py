"""Account status (DESIGN §4): overdue and resumed on every balance change, freeze and unfreeze,
suspension and its deadline job; each transition one event and its notices, once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from credits.services import credit_allocate, repayment_confirm, usage_charge_record
from customers.models import AccountStatus, CustomerBalance, StatusEvent
from notifications.models import Alert, Delivery, Message
from notifications.services import deliveries_attempt
from notifications.services.status import (
    CustomerOverdue,
    customer_freeze,
    customer_unfreeze,
    suspension_deadlines_run,
)
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory, UserFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def shop(db):
    from credits.services import pool_grant

    reseller = ResellerFactory(contact_email="ops@shop.example", contact_phone="+6580001111")
    pool_grant(reseller=reseller, amount="1000.00")
    member = MemberFactory(reseller=reseller, role="admin",
                           user=UserFactory(username="status-admin", email="admin@shop.example"))
    customer = CustomerFactory(reseller=reseller, email="bill@cust.example", phone="+6590002222")
    credit_allocate(reseller=reseller, customer=customer, amount="100.00", source="system")
    return type("Shop", (), {"reseller": reseller, "member": member, "customer": customer})


def _charge(shop, amount, key):
    return usage_charge_record(reseller=shop.reseller, customer_uin=shop.customer.uin, amount=amount,
                               incurred_at=timezone.now(), external_id=key)


def _status(customer) -> str:
    return CustomerBalance.objects.get(pk=customer.pk).status


def _kinds(customer) -> list[str]:
    return list(StatusEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True))


def test_usage_crossing_zero_makes_one_overdue_event_with_notices(shop, enqueued):
    with enqueued() as sent:
        _charge(shop, "60.00", "a")
    assert _kinds(shop.customer) == [] and _status(shop.customer) == "normal"
    with enqueued() as sent:
        _charge(shop, "50.00", "b")
    assert _status(shop.customer) == AccountStatus.OVERDUE
    event = StatusEvent.objects.get(customer=shop.customer)
    assert (event.kind, event.from_status, event.to_status, event.cause) == ("overdue", "normal", "overdue", "usage")
    assert event.available == Decimal("-10.00")
    alert = Alert.objects.get(kind=Alert.Kind.STATUS)
    assert alert.status_event == event
    # The usage alerts' recipients and channels: contact e-mail + SMS, the member's e-mail + inbox,
    # the customer's e-mail + SMS + inbox.
    channels = sorted(Delivery.objects.filter(alert=alert).values_list("recipient_key", "channel"))
    assert channels == sorted([("contact", "email"), ("contact", "sms"), (f"member:{shop.member.pk}", "email"),
                               (f"member:{shop.member.pk}", "inbox"), ("customer", "email"),
                               ("customer", "sms"), ("customer", "inbox")])
    assert any(task == "notifications.tasks.deliveries_send" for task, *_ in sent)
    # Further usage below zero: no second event.
    _charge(shop, "5.00", "c")
    assert _kinds(shop.customer) == ["overdue"]

    mail.outbox = []
    deliveries_attempt(delivery_ids=list(Delivery.objects.filter(alert=alert).values_list("id", flat=True)))
    subjects = sorted(m.subject for m in mail.outbox)
    assert any("is overdue" in s and "Your account" not in s for s in subjects)
    assert any(s.startswith("[Partner Center] Your account") and "is overdue" in s for s in subjects)
    assert Message.objects.filter(alert=alert, for_customer=True).get().title.startswith("Your account")


def test_channel_switches_apply_to_status_notices(shop):
    shop.reseller.customer_alerts_enabled = False
    shop.reseller.save()
    _charge(shop, "150.00", "a")
    keys = set(Delivery.objects.filter(alert__kind="status").values_list("recipient_key", flat=True))
    assert "customer" not in keys and "contact" in keys


def test_allocation_and_repayment_resume(shop):
    _charge(shop, "130.00", "a")
    credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="20.00", source="system")
    assert _status(shop.customer) == "overdue" and _kinds(shop.customer) == ["overdue"]
    credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="10.00", source="system")
    assert _status(shop.customer) == "normal"
    resumed = StatusEvent.objects.filter(customer=shop.customer).order_by("id").last()
    assert (resumed.kind, resumed.from_status, resumed.to_status, resumed.cause) == (
        "resumed", "overdue", "normal", "allocation")
    _charge(shop, "1.00", "b")
    repayment_confirm(reseller=shop.reseller, customer=shop.customer, amount="1.00", actor=None,
                      idempotency_key="r1")
    assert _kinds(shop.customer) == ["overdue", "resumed", "overdue", "resumed"]
    assert StatusEvent.objects.filter(customer=shop.customer).order_by("id").last().cause == "repayment"
    assert Alert.objects.filter(kind="status").count() == 4


def test_a_refused_allocation_writes_no_event(shop):
    _charge(shop, "130.00", "a")
    from core.errors import InsufficientPoolBalance

    with pytest.raises(InsufficientPoolBalance):
        credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="5000.00", source="system")
    assert _kinds(shop.customer) == ["overdue"] and _status(shop.customer) == "overdue"


def test_freeze_and_unfreeze_notify_once(shop):
    events = customer_freeze(reseller=shop.reseller, customer=shop.customer, actor=shop.member.user,
                             actor_name="status-admin")
    assert [e.kind for e in events] == ["frozen"] and _status(shop.customer) == "frozen"
    assert customer_freeze(reseller=shop.reseller, customer=shop.customer) == []
    # An allocation to a frozen customer goes through (so that it can be unfrozen); it stays frozen.
    credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="5.00", source="system")
    assert _status(shop.customer) == "frozen"
    customer_unfreeze(reseller=shop.reseller, customer=shop.customer)
    assert _status(shop.customer) == "normal"
    assert _kinds(shop.customer) == ["frozen", "unfrozen"]
    assert customer_unfreeze(reseller=shop.reseller, customer=shop.customer) == []
    assert Alert.objects.filter(kind="status").count() == 2
    first = StatusEvent.objects.filter(customer=shop.customer).order_by("id").first()
    assert (first.actor, first.actor_name, first.from_status, first.to_status) == (
        shop.member.user, "status-admin", "normal", "frozen")


def test_unfreeze_refused_below_zero_writes_nothing(shop):
    customer_freeze(reseller=shop.reseller, customer=shop.customer)
    _charge(shop, "150.00", "a")
    events_before = StatusEvent.objects.count()
    deliveries_before = Delivery.objects.count()
    with pytest.raises(CustomerOverdue) as refused:
        customer_unfreeze(reseller=shop.reseller, customer=shop.customer)
    assert refused.value.code == "FailedOperation.CustomerOverdue"
    assert "-50.00" in str(refused.value)
    assert _status(shop.customer) == "frozen"
    assert StatusEvent.objects.count() == events_before and Delivery.objects.count() == deliveries_before


def test_another_resellers_customer_cannot_be_frozen(shop):
    from core.errors import CustomerNotBound

    other = ResellerFactory()
    with pytest.raises(CustomerNotBound):
        customer_freeze(reseller=other, customer=shop.customer)
    assert _status(shop.customer) == "normal" and not StatusEvent.objects.exists()


def _allowlist(shop):
    shop.reseller.suspension_allowlisted = True
    shop.reseller.save()


def test_overdue_customer_of_an_allowlisted_reseller_is_suspended_at_once(shop):
    _allowlist(shop)
    _charge(shop, "150.00", "a")
    assert _status(shop.customer) == "suspended"
    assert _kinds(shop.customer) == ["overdue", "suspended"]
    suspended = StatusEvent.objects.get(kind="suspended")
    assert (suspended.from_status, suspended.to_status) == ("overdue", "suspended")
    assert CustomerBalance.objects.get(pk=shop.customer.pk).suspended_at is not None


def test_other_resellers_customers_are_never_suspended(shop):
    customer_freeze(reseller=shop.reseller, customer=shop.customer)
    _charge(shop, "150.00", "a")
    assert _status(shop.customer) == "frozen"
    assert "suspended" not in _kinds(shop.customer)


def test_non_stop_customers_are_never_suspended(shop):
    _allowlist(shop)
    shop.customer.non_stop = True
    shop.customer.save()
    _charge(shop, "150.00", "a")
    customer_freeze(reseller=shop.reseller, customer=shop.customer)
    suspension_deadlines_run(now=timezone.now() + timedelta(days=30))
    assert _status(shop.customer) == "frozen"
    assert _kinds(shop.customer) == ["overdue", "frozen"]


def test_freezing_suspends_and_unfreezing_cancels_the_deletion(shop):
    _allowlist(shop)
    start = timezone.now()
    customer_freeze(reseller=shop.reseller, customer=shop.customer, now=start)
    assert _kinds(shop.customer) == ["frozen", "suspended"]
    suspension_deadlines_run(now=start + timedelta(days=8, seconds=1))
    assert _kinds(shop.customer)[-1] == "deletion_7d"
    customer_unfreeze(reseller=shop.reseller, customer=shop.customer, now=start + timedelta(days=9))
    balance = CustomerBalance.objects.get(pk=shop.customer.pk)
    assert (balance.status, balance.suspended_at, balance.deletion_notice) == ("normal", None, 0)
    assert suspension_deadlines_run(now=start + timedelta(days=20)) == {
        "deleted": 0, "deletion_1d": 0, "deletion_7d": 0}
    assert _kinds(shop.customer) == ["frozen", "suspended", "deletion_7d", "unfrozen"]


def test_resume_before_the_deadline_cancels_it(shop):
    _allowlist(shop)
    start = timezone.now()
    _charge(shop, "150.00", "a")
    CustomerBalance.objects.filter(pk=shop.customer.pk).update(suspended_at=start - timedelta(days=14, hours=1))
    suspension_deadlines_run(now=start)
    assert _kinds(shop.customer)[-1] == "deletion_1d"
    credit_allocate(reseller=shop.reseller, customer=shop.customer, amount="60.00", source="system")
    assert _status(shop.customer) == "normal"
    assert suspension_deadlines_run(now=start + timedelta(days=2))["deleted"] == 0
    resumed = StatusEvent.objects.filter(customer=shop.customer).order_by("id").last()
    assert (resumed.kind, resumed.from_status, resumed.to_status) == ("resumed", "suspended", "normal")


def test_deadline_job_run_twice_notifies_once(shop):
    _allowlist(shop)
    start = timezone.now()
    customer_freeze(reseller=shop.reseller, customer=shop.customer, now=start)
    seven = start + timedelta(days=8, minutes=1)
    assert suspension_deadlines_run(now=seven) == {"deleted": 0, "deletion_1d": 0, "deletion_7d": 1}
    assert suspension_deadlines_run(now=seven) == {"deleted": 0, "deletion_1d": 0, "deletion_7d": 0}
    one = start + timedelta(days=14, minutes=1)
    assert suspension_deadlines_run(now=one)["deletion_1d"] == 1
    deadline = start + timedelta(days=15, minutes=1)
    assert suspension_deadlines_run(now=deadline) == {"deleted": 1, "deletion_1d": 0, "deletion_7d": 0}
    assert suspension_deadlines_run(now=deadline) == {"deleted": 0, "deletion_1d": 0, "deletion_7d": 0}
    balance = CustomerBalance.objects.get(pk=shop.customer.pk)
    assert (balance.status, balance.data_deleted_at) == ("deleted", deadline)
    assert _kinds(shop.customer) == ["frozen", "suspended", "deletion_7d", "deletion_1d", "deleted"]
    assert Alert.objects.filter(kind="status").count() == 5


def test_a_late_job_sends_only_the_most_urgent_notice(shop):
    _allowlist(shop)
    start = timezone.now()
    customer_freeze(reseller=shop.reseller, customer=shop.customer, now=start)
    suspension_deadlines_run(now=start + timedelta(days=16))
    assert _kinds(shop.customer) == ["frozen", "suspended", "deleted"]


def test_database_refuses_deleted_without_suspension(shop):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerBalance.objects.filter(pk=shop.customer.pk).update(data_deleted_at=timezone.now())


def test_the_beat_task_runs_the_deadline_job(shop):
    from notifications import tasks

    _allowlist(shop)
    customer_freeze(reseller=shop.reseller, customer=shop.customer)
    CustomerBalance.objects.filter(pk=shop.customer.pk).update(suspended_at=timezone.now() - timedelta(days=16))
    assert tasks.suspension_deadlines() == {"deleted": 1, "deletion_1d": 0, "deletion_7d": 0}
    assert tasks.suspension_deadlines() == {"deleted": 0, "deletion_1d": 0, "deletion_7d": 0}
    assert _status(shop.customer) == "deleted"


def test_status_notices_are_in_the_customers_alert_history(shop, client):
    _charge(shop, "150.00", "a")
    client.force_login(shop.member.user)
    page = client.get(f"/customers/{shop.customer.uin}/alerts/").content.decode()
    assert "is overdue: its available credit is below zero" in page


def test_the_sweep_records_a_change_made_outside_the_services_once(shop):
    from notifications import tasks
    from notifications.services.status import overdue_sweep

    _charge(shop, "50.00", "a")
    assert overdue_sweep() == 0  # every service recorded its own change
    _allowlist(shop)
    CustomerBalance.objects.filter(pk=shop.customer.pk).update(used=Decimal("120.00"))  # bypasses the services
    assert tasks.overdue_sweep() == 1
    assert overdue_sweep() == 0
    assert _kinds(shop.customer) == ["overdue", "suspended"]
    assert StatusEvent.objects.filter(kind="overdue").get().cause == "sweep"
    assert _status(shop.customer) == "suspended"
    CustomerBalance.objects.filter(pk=shop.customer.pk).update(used=Decimal("10.00"))
    assert overdue_sweep() == 1 and overdue_sweep() == 0
    assert _kinds(shop.customer) == ["overdue", "suspended", "resumed"]
    assert _status(shop.customer) == "normal"
    assert Alert.objects.filter(kind="status").count() == 3


def test_a_sweep_suspends_and_resumes_many_customers_with_one_update_each_way(shop):
    """The suspension columns of every customer a change suspends (or resumes) are written by one
    UPDATE, not one per customer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.services.status import overdue_sweep

    _allowlist(shop)
    others = [CustomerFactory(reseller=shop.reseller) for _ in range(4)]
    for other in others:
        credit_allocate(reseller=shop.reseller, customer=other, amount="10.00", source="system")
    everyone = [shop.customer, *others]
    ids = [c.pk for c in everyone]
    CustomerBalance.objects.filter(pk__in=ids).update(used=Decimal("200.00"))  # bypasses the services

    def suspension_updates(run) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert run() == len(everyone)
        return sum(q["sql"].startswith('UPDATE "customers_customerbalance" SET "suspended_at"') for q in queries)

    assert suspension_updates(overdue_sweep) == 1
    assert all(_status(c) == "suspended" for c in everyone)
    CustomerBalance.objects.filter(pk__in=ids).update(used=Decimal("0.00"))
    assert suspension_updates(overdue_sweep) == 1
    assert all(_status(c) == "normal" for c in everyone)
    assert all(_kinds(c) == ["overdue", "suspended", "resumed"] for c in everyone)


def test_database_refuses_changing_or_deleting_a_status_event(shop):
    from django.db import IntegrityError, transaction

    customer_freeze(reseller=shop.reseller, customer=shop.customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusEvent.objects.update(kind="unfrozen")
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusEvent.objects.filter(kind="frozen").delete()
    assert _kinds(shop.customer) == ["frozen"]
