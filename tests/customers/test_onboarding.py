"""Onboarding services (DESIGN §7): invitation_create / resend / revoke, application_register,
application_approve / reject. Each refusal changes nothing."""

from datetime import timedelta
from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import CustomerNotBound, DomainError, InvalidValue
from core.inputs import uin_or_none
from credits.services import credit_allocate
from customers import selectors, services
from customers.models import Application, Customer, CustomerBalance, CustomerLogin, Invitation
from notifications.models import Alert, Message
from notifications.tasks import customer_bound_notice
from tests.factories import MemberFactory, ResellerFactory
from tests.onboarding import LINK, PASSWORD, invite, register, token_in_last_mail

pytestmark = pytest.mark.django_db


def counts():
    return (Invitation.objects.count(), Application.objects.count(), Customer.objects.count(),
            CustomerLogin.objects.count(), get_user_model().objects.count())


def register_with(token, **changes):
    fields = {"name": "Lotus Labs", "email": "ops@lotus.example", "phone": "+6581234567", "password": PASSWORD,
              "identity_type": "personal", **changes}
    return services.application_register(token=token, **fields)


def test_invitation_is_emailed_with_a_single_use_link_and_only_its_digest_is_stored(reseller, settings):
    settings.CONSOLE_BASE_URL = "https://pc.example"
    invitation, link = services.invitation_create(reseller=reseller, email=" Ops@Lotus.example ")
    assert link.startswith("https://pc.example/portal/register/")
    token = LINK.search(link).group(1)
    assert len(token) >= 40
    assert invitation.token_digest == services.token_digest(token) and token not in invitation.token_digest
    assert invitation.email == "Ops@Lotus.example"
    assert invitation.status == Invitation.Status.UNUSED
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    [message] = mail.outbox
    assert message.to == ["Ops@Lotus.example"] and link in message.body and reseller.name in message.subject


def test_invitation_validity_is_a_setting(reseller, settings):
    settings.INVITATION_VALID_FOR = timedelta(days=2)
    invitation, _ = invite(reseller)
    assert invitation.expires_at - invitation.created_at == timedelta(days=2)


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "x" * 250 + "@example.com", "nul\x00@example.com"])
def test_invitation_refuses_a_bad_address_and_writes_nothing(reseller, email):
    with pytest.raises(InvalidValue) as refused:
        services.invitation_create(reseller=reseller, email=email)
    assert refused.value.field == "email"
    assert counts() == (0, 0, 0, 0, 0) and mail.outbox == []


def test_invitation_refuses_an_unknown_role_and_a_bad_material_url(reseller):
    with pytest.raises(InvalidValue, match="role"):
        services.invitation_create(reseller=reseller, email="a@example.com", role="admin")
    with pytest.raises(InvalidValue, match="http"):
        services.invitation_create(reseller=reseller, email="a@example.com", material_url="javascript:alert(1)")
    assert Invitation.objects.count() == 0 and mail.outbox == []


def test_invitation_not_written_when_the_mail_server_refuses(reseller):
    with mock.patch("customers.services.send_mail", side_effect=SMTPServerDisconnected("gone")):
        with pytest.raises(services.MailNotSent) as refused:
            services.invitation_create(reseller=reseller, email="a@example.com")
    assert refused.value.code == "FailedOperation.SendMailFailed"
    assert Invitation.objects.count() == 0


def test_resend_sends_a_new_link_and_the_old_one_stops_working(reseller):
    invitation, old_token = invite(reseller)
    later = timezone.now() + timedelta(days=3)
    with mock.patch("django.utils.timezone.now", return_value=later):
        _, link = services.invitation_resend(reseller=reseller, invitation_id=invitation.pk)
    new_token = LINK.search(link).group(1)
    assert new_token != old_token and token_in_last_mail() == new_token and len(mail.outbox) == 2
    invitation.refresh_from_db()
    assert invitation.expires_at == later + timedelta(days=7)
    with pytest.raises(services.InvitationUnusable, match="not valid"):
        register_with(old_token)
    assert register_with(new_token).status == Application.Status.PENDING


def test_revoke_stops_the_link_and_revoked_or_used_ones_are_refused(reseller):
    invitation, token = invite(reseller)
    services.invitation_revoke(reseller=reseller, invitation_id=invitation.pk)
    assert Invitation.objects.get().status == Invitation.Status.REVOKED
    before = counts()
    with pytest.raises(services.InvitationUnusable, match="withdrawn"):
        register_with(token)
    with pytest.raises(services.InvitationUnusable, match="already revoked"):
        services.invitation_revoke(reseller=reseller, invitation_id=invitation.pk)
    with pytest.raises(services.InvitationUnusable):
        services.invitation_resend(reseller=reseller, invitation_id=invitation.pk)
    assert counts() == before and len(mail.outbox) == 1

    used, token = invite(reseller, "second@example.com")
    register_with(token, email="second@example.com")
    with pytest.raises(services.InvitationUnusable, match="already used"):
        services.invitation_revoke(reseller=reseller, invitation_id=used.pk)


def test_another_resellers_invitation_is_not_found(reseller):
    invitation, _ = invite(reseller)
    other = ResellerFactory()
    with pytest.raises(DomainError, match="does not exist"):
        services.invitation_revoke(reseller=other, invitation_id=invitation.pk)
    with pytest.raises(DomainError, match="does not exist"):
        services.invitation_resend(reseller=other, invitation_id=invitation.pk)
    assert Invitation.objects.get().revoked_at is None


def test_registration_gives_a_uin_and_a_login_and_uses_the_invitation(reseller):
    invitation, token = invite(reseller)
    application = register_with(token)
    assert application.status == Application.Status.PENDING and application.reseller == reseller
    assert uin_or_none(application.uin) == application.uin and 10**11 <= application.uin < 10**12
    user = application.login.user
    assert user.username == "ops@lotus.example" and user.check_password(PASSWORD)
    assert not user.is_staff and not hasattr(user, "member")
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.USED
    # Pending: in no customer list, no Customer at all, so no allocation can reach it.
    assert not Customer.objects.filter(uin=application.uin).exists()
    assert selectors.customer_list(reseller=reseller).count() == 0
    assert list(selectors.pending_applications(reseller=reseller)) == [application]


def test_a_link_works_once(reseller):
    _, token = invite(reseller)
    register_with(token)
    before = counts()
    with pytest.raises(services.InvitationUnusable, match="already used"):
        register_with(token, email="other@lotus.example")
    assert counts() == before


def test_an_expired_link_explains_itself_and_changes_nothing(reseller):
    _, token = invite(reseller)
    before = counts()
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=8)):
        with pytest.raises(services.InvitationUnusable, match="expired"):
            register_with(token)
    assert counts() == before


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": "  "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"email": "nope"}, "email"),
    ({"phone": ""}, "phone"),
    ({"phone": "1" * 33}, "phone"),
    ({"identity_type": "company"}, "identity_type"),
    ({"password": "123"}, "password"),
    ({"password": "ops@lotus.example"}, "password"),
])
def test_registration_refuses_bad_fields_and_writes_nothing(reseller, changes, field):
    invitation, token = invite(reseller)
    before = counts()
    with pytest.raises(InvalidValue) as refused:
        register_with(token, **changes)
    assert refused.value.field == field
    assert counts() == before
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.UNUSED


def test_registration_refuses_an_address_that_already_has_an_account(reseller):
    MemberFactory(reseller=reseller, user__username="ops@lotus.example")
    _, token = invite(reseller)
    before = counts()
    with pytest.raises(InvalidValue, match="already exists"):
        register_with(token, email="OPS@lotus.example")
    assert counts() == before


def test_approval_binds_the_customer_with_zero_credit_and_tells_the_resellers_message_center(
        reseller, django_capture_on_commit_callbacks):
    member = MemberFactory(reseller=reseller)
    application = register(reseller)
    with mock.patch("celery.app.base.Celery.send_task") as send_task, \
            django_capture_on_commit_callbacks(execute=True):
        customer = services.application_approve(reseller=reseller, uin=application.uin, actor=member.user)
    send_task.assert_called_once_with("notifications.tasks.customer_bound_notice", args=(customer.pk,))
    assert customer.uin == application.uin and customer.name == application.name
    assert customer.email == application.email and customer.phone == application.phone
    assert timezone.now() - customer.bound_at < timedelta(minutes=1)
    assert CustomerBalance.objects.get(customer=customer).credit == 0
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED and application.decided_by == member.user
    assert application.login.customer == customer
    assert list(selectors.customer_list(reseller=reseller)) == [customer]
    assert selectors.pending_applications(reseller=reseller).count() == 0
    # The task the approval enqueued writes the notice (the real outbox delivers it to the inbox).
    customer_bound_notice(customer.pk)
    alert = Alert.objects.get(customer=customer)
    assert alert.kind == Alert.Kind.BOUND
    assert {(d.recipient_kind, d.channel) for d in alert.deliveries.all()} == {("member", "inbox")}
    from notifications.services import delivery_attempt
    delivery_attempt(delivery_id=alert.deliveries.get().pk)
    message = Message.objects.get(member=member)
    assert str(customer.uin) in message.title and "approved" in message.title
    customer_bound_notice(customer.pk)
    assert Alert.objects.count() == 1


def test_approval_stands_when_the_broker_is_down(reseller, django_capture_on_commit_callbacks, caplog):
    from kombu.exceptions import OperationalError

    application = register(reseller)
    with mock.patch("celery.app.base.Celery.send_task", side_effect=OperationalError("down")), \
            django_capture_on_commit_callbacks(execute=True):
        customer = services.application_approve(reseller=reseller, uin=application.uin)
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert "Could not enqueue notifications.tasks.customer_bound_notice" in caplog.text


def test_approved_customer_can_receive_credit(reseller):
    from credits.services import pool_grant

    pool_grant(reseller=reseller, amount="500.00")
    application = register(reseller)
    with pytest.raises(CustomerNotBound):
        credit_allocate(reseller=reseller, customer=Customer(pk=None, uin=application.uin, reseller=reseller), amount="10.00")
    customer = services.application_approve(reseller=reseller, uin=application.uin)
    credit_allocate(reseller=reseller, customer=customer, amount="100.00")
    assert CustomerBalance.objects.get(customer=customer).credit == 100


def test_rejection_needs_a_reason_and_emails_it(reseller):
    application = register(reseller)
    mail.outbox.clear()
    with pytest.raises(InvalidValue, match="required"):
        services.application_reject(reseller=reseller, uin=application.uin, reason="  ")
    assert Application.objects.get().status == Application.Status.PENDING and mail.outbox == []
    services.application_reject(reseller=reseller, uin=application.uin, reason="Documents missing")
    application.refresh_from_db()
    assert application.status == Application.Status.REJECTED and application.reject_reason == "Documents missing"
    [message] = mail.outbox
    assert message.to == [application.email] and "Documents missing" in message.body
    assert Customer.objects.count() == 0


def test_a_decided_application_cannot_be_decided_again(reseller):
    approved = register(reseller)
    services.application_approve(reseller=reseller, uin=approved.uin)
    rejected = register(reseller, email="b@example.com")
    services.application_reject(reseller=reseller, uin=rejected.uin, reason="No")
    before = counts()
    for uin in (approved.uin, rejected.uin):
        with pytest.raises(services.ApplicationDecided):
            services.application_approve(reseller=reseller, uin=uin)
        with pytest.raises(services.ApplicationDecided):
            services.application_reject(reseller=reseller, uin=uin, reason="again")
    assert counts() == before


@pytest.mark.parametrize("uin", ["other", 123, "abc", None])
def test_another_resellers_or_unknown_uin_is_uin_no_auth(reseller, uin):
    application = register(reseller)
    other = ResellerFactory()
    target = application.uin if uin == "other" else uin
    with pytest.raises(CustomerNotBound) as refused:
        services.application_approve(reseller=other, uin=target)
    assert refused.value.code == "UnauthorizedOperation.UinNoAuth"
    with pytest.raises(CustomerNotBound):
        services.application_reject(reseller=other, uin=target, reason="x")
    assert Application.objects.get().status == Application.Status.PENDING and Customer.objects.count() == 0


@pytest.mark.postgres
def test_the_database_refuses_an_inconsistent_decision(reseller):
    application = register(reseller)
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=application.pk).update(status="approved")
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=application.pk).update(status="rejected", decided_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.filter(pk=application.invitation_id).update(revoked_at=timezone.now())


def _refused_at_commit(change):
    """Each change in its own transaction: the deferred checks run at its commit."""
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            change()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_keeps_the_onboarding_rules_the_services_keep(reseller):
    """Migration 0020: an application's reseller is its invitation's; an approved application's
    customer is its login's; an invitation is marked used exactly when it has an application."""
    from tests.onboarding import bound_customer

    application = register(reseller)
    other = ResellerFactory()
    _refused_at_commit(lambda: Application.objects.filter(pk=application.pk).update(reseller=other))
    _refused_at_commit(lambda: Invitation.objects.filter(pk=application.invitation_id).update(used_at=None))
    unused, _ = invite(reseller, email="unused@client.example")
    _refused_at_commit(lambda: Invitation.objects.filter(pk=unused.pk).update(used_at=timezone.now()))

    customer, _ = bound_customer(reseller, email="bound@client.example", name="Bound Ltd")
    approved = Application.objects.get(customer=customer)
    _refused_at_commit(lambda: CustomerLogin.objects.filter(pk=approved.login_id).update(customer=None))
    _refused_at_commit(lambda: Application.objects.filter(pk=approved.pk).update(
        customer=Customer.objects.create(reseller=reseller, uin=uin_or_none("500000000123"), name="Someone else")))
    # Nothing changed, and the services' own writes pass the same checks.
    approved.refresh_from_db()
    assert approved.customer == customer and CustomerLogin.objects.get(pk=approved.login_id).customer == customer
    assert Application.objects.get(pk=application.pk).reseller == reseller
    assert Invitation.objects.get(pk=unused.pk).used_at is None
    assert services.application_approve(reseller=reseller, uin=application.uin).login.user == application.login.user
