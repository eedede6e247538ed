"""Writes for members and customers (a reseller is created with its pool: credits.services.reseller_create),
and onboarding: invitations, the applications they lead to, and their approval or rejection."""

import hashlib
import logging
import secrets
from smtplib import SMTPException

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.broker import send_task_on_commit
from core.errors import CustomerNotBound, DomainError, InvalidValue, NotFound, NotPermitted
from core.inputs import text_clean, uin_or_none, uin_rule
from core.timezones import time_zone_names

from .models import (
    Application,
    Customer,
    CustomerBalance,
    CustomerLogin,
    Invitation,
    Member,
    Reseller,
    default_language,
)

logger = logging.getLogger(__name__)


def member_create(*, reseller: Reseller, username: str, password: str, role: str = Member.Role.OPERATOR, email: str = "") -> Member:
    """A new user, member of the reseller. A member is never a customer's login (each is a new user)."""
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email)
        return Member.objects.create(user=user, reseller=reseller, role=role)


def language_checked(language: str) -> str:
    """A member's or a customer's language: one of settings.LANGUAGES, else the refusal saying which."""
    allowed = dict(settings.LANGUAGES)
    if language not in allowed:
        raise InvalidValue(
            gettext("Unknown language %(language)s: use one of %(allowed)s.")
            % {"language": repr(language), "allowed": ", ".join(allowed)},
            field="language",
        )
    return language


def member_language_set(*, member: Member, language: str) -> Member:
    """The language the member reads the console, its e-mails and its SMS in (any role may pick
    its own)."""
    language = language_checked(language)
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(language=language)
    member.language = language
    return member


def customer_language_set(*, customer: Customer, language: str) -> Customer:
    """The language the customer reads its portal, its e-mails, its SMS and its Message Center in,
    picked by the customer in its portal's user menu (the reseller may set it too, as the language
    of its alerts)."""
    language = language_checked(language)
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(language=language)
    customer.language = language
    return customer


def _field_max(name: str) -> int:
    return Customer._meta.get_field(name).max_length


def customer_create(
    *,
    reseller: Reseller,
    uin: int,
    name: str,
    email: str = "",
    phone: str = "",
    remark: str = "",
    identity_type: str = Customer.IdentityType.ENTERPRISE,
    bound_at=None,
    language: str = "",
) -> Customer:
    """Bind a new customer, with its balance (credit 0, used 0), to the reseller. UINs are unique platform-wide. Text
    longer than its column is refused with the limit, never cut short (as remark_clean does)."""
    name = text_clean(name, label=gettext("customer's name"), limit=_field_max("name"), field="name", required=True)
    uin = uin_or_none(uin)
    if uin is None:
        raise InvalidValue(gettext("Enter a valid UIN: %(rule)s.") % {"rule": uin_rule()}, field="uin")
    email = text_clean(email, label=gettext("e-mail address"), limit=_field_max("email"), field="email")
    phone = text_clean(phone, label=gettext("phone number"), limit=_field_max("phone"), field="phone")
    remark = remark_clean(remark)
    language = language_checked(language) if language else default_language()
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                reseller=reseller,
                uin=uin,
                name=name,
                email=email,
                phone=phone,
                remark=remark,
                identity_type=identity_type,
                bound_at=bound_at or timezone.now(),
                language=language,
            )
            CustomerBalance.objects.create(customer=customer, reseller=reseller)
            return customer
    except IntegrityError as exc:
        if Customer.objects.filter(uin=uin).exists():
            raise InvalidValue(
                gettext("UIN %(uin)s is already bound to a reseller.") % {"uin": uin}, field="uin"
            ) from exc
        raise


# The column that backs a remark, of a customer or of an allocation record.
REMARK_MAX = 255


def remark_clean(remark: str) -> str:
    """A remark (customer or allocation record) stripped, or refused when it cannot be stored or is
    longer than the 255-character column that backs it."""
    return text_clean(
        remark, label=gettext("remark"), limit=REMARK_MAX, field="remark",
        too_long_code="InvalidParameterValue.RemarkTooLong",
    )


def customer_remark_update(*, customer: Customer, remark: str) -> Customer:
    remark = remark_clean(remark)
    Customer.objects.filter(pk=customer.pk).update(remark=remark)
    customer.remark = remark
    return customer


def reseller_time_zone_update(*, member: Member, time_zone: str) -> Reseller:
    """The reseller's time zone (DESIGN §9): every time in its console, CSV exports and API answers
    is shown in it, and its alert days follow it. Admins only; an IANA name this machine knows."""
    if member.role != Member.Role.ADMIN:
        raise NotPermitted(gettext("Only an admin of your account can change its time zone."))
    time_zone = (time_zone or "").strip()
    if time_zone not in time_zone_names():
        raise InvalidValue(
            gettext("“%(value)s” is not a time zone. Choose an IANA name such as Asia/Shanghai, Europe/Berlin or UTC.")
            % {"value": time_zone[:64]},
            field="time_zone",
        )
    with transaction.atomic():
        Reseller.objects.filter(pk=member.reseller_id).update(time_zone=time_zone)
    reseller = member.reseller
    reseller.time_zone = time_zone
    reseller.__dict__.pop("zone", None)
    return reseller


# ---------------------------------------------------------------------------------------------------
# Onboarding (DESIGN §7): invitation → application → approval (or rejection).


class InvitationUnusable(DomainError):
    """An invitation link that is used, revoked, expired or unknown: the message says which."""

    code = "FailedOperation.InvitationUnusable"


class ApplicationDecided(DomainError):
    code = "FailedOperation.ApplicationAlreadyDecided"


class MailNotSent(DomainError):
    code = "FailedOperation.SendMailFailed"


# Registration's fixed lengths: the columns that back them.
APPLICATION_NAME_MAX = Application._meta.get_field("name").max_length
APPLICATION_PHONE_MAX = Application._meta.get_field("phone").max_length
REJECT_REASON_MAX = Application._meta.get_field("reject_reason").max_length
MATERIAL_URL_MAX = Invitation._meta.get_field("material_url").max_length
EMAIL_MAX = Invitation._meta.get_field("email").max_length
# New customers' UINs: 12 digits, drawn at random (so a UIN says nothing about how many customers
# there are), within the one UIN rule (core.inputs), unique across customers and applications.
NEW_UIN_LOW, NEW_UIN_HIGH = 10**11, 10**12 - 1


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def invitation_link(token: str) -> str:
    """The registration page an invitation's e-mail links to (the portal, under CONSOLE_BASE_URL)."""
    return f"{settings.CONSOLE_BASE_URL.rstrip('/')}/portal/register/{token}/"


def email_clean(value, *, field: str = "email") -> str:
    email = text_clean(value, label=gettext("e-mail address"), limit=EMAIL_MAX, field=field, required=True)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidValue(
            gettext("Enter a valid e-mail address, such as name@example.com (you entered %(value)s).")
            % {"value": email[:60]}, field=field,
        ) from None
    return email


def _send(*, subject: str, template: str, context: dict, to: str) -> None:
    """Send one e-mail now (inside the caller's transaction: a refused message rolls the write back,
    so nothing says "sent" that was not)."""
    body = render_to_string(template, context)
    try:
        send_mail(subject, body, None, [to])
    except (SMTPException, OSError) as exc:
        logger.warning("could not send %s to %s: %s", template, to, exc)
        raise MailNotSent(
            gettext("The e-mail to %(to)s could not be sent (%(error)s); nothing was changed. Try again later.")
            % {"to": to, "error": exc.__class__.__name__}
        ) from exc


def _send_invitation(invitation: Invitation, token: str) -> str:
    link = invitation_link(token)
    _send(
        subject=gettext("%(reseller)s invites you to Partner Center") % {"reseller": invitation.reseller.name},
        template="customers/email/invitation.txt",
        context={"invitation": invitation, "reseller": invitation.reseller, "link": link},
        to=invitation.email,
    )
    return link


def invitation_create(
    *, reseller: Reseller, email: str, actor=None, role: str = Invitation.Role.CLIENT, material_url: str = "",
) -> tuple[Invitation, str]:
    """Invite `email` to become the reseller's customer: a single-use token (only its digest is
    stored) valid for INVITATION_VALID_DAYS, e-mailed as a link. Returns the invitation and the link.
    Nothing is written unless the e-mail was accepted by the mail server."""
    email = email_clean(email)
    if role not in Invitation.Role.values:
        raise InvalidValue(
            gettext("The invitation role %(role)s is not known; allowed: %(allowed)s.")
            % {"role": str(role)[:40], "allowed": ", ".join(Invitation.Role.values)}, field="role",
        )
    material_url = text_clean(material_url, label=gettext("material URL"), limit=MATERIAL_URL_MAX, field="material_url")
    if material_url:
        try:
            URLValidator(schemes=["http", "https"])(material_url)
        except ValidationError:
            raise InvalidValue(
                gettext("The material URL must be an http:// or https:// address."), field="material_url"
            ) from None
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            reseller=reseller, email=email, role=role, material_url=material_url, token_digest=token_digest(token),
            created_at=now, sent_at=now, expires_at=now + settings.INVITATION_VALID_FOR,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        link = _send_invitation(invitation, token)
    return invitation, link


def _invitation_locked(*, reseller: Reseller, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.select_for_update().filter(pk=invitation_id, reseller=reseller).first()
    if invitation is None:
        raise NotFound(gettext("This invitation does not exist or is not yours."))
    return invitation


def invitation_resend(*, reseller: Reseller, invitation_id: int) -> tuple[Invitation, str]:
    """E-mail the invitation again with a new link, valid INVITATION_VALID_DAYS from now; the old link
    stops working (its token is not stored, so it cannot be sent again). Used or revoked: refused."""
    with transaction.atomic():
        invitation = _invitation_locked(reseller=reseller, invitation_id=invitation_id)
        if invitation.used_at or invitation.revoked_at:
            raise InvitationUnusable(
                gettext("This invitation was already used or revoked; invite the customer again instead.")
            )
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        invitation.token_digest = token_digest(token)
        invitation.sent_at = now
        invitation.expires_at = now + settings.INVITATION_VALID_FOR
        invitation.save(update_fields=["token_digest", "sent_at", "expires_at"])
        link = _send_invitation(invitation, token)
    return invitation, link


def invitation_revoke(*, reseller: Reseller, invitation_id: int) -> Invitation:
    """Stop an unused invitation's link from working. A used invitation cannot be revoked (reject
    its application instead); revoking twice is refused."""
    with transaction.atomic():
        invitation = _invitation_locked(reseller=reseller, invitation_id=invitation_id)
        if invitation.used_at:
            raise InvitationUnusable(gettext("This invitation was already used; reject its application instead."))
        if invitation.revoked_at:
            raise InvitationUnusable(gettext("This invitation is already revoked."))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_problem(invitation: Invitation | None, *, now=None) -> str | None:
    """Why this invitation link cannot be used, in words for the person who opened it; None if it can."""
    if invitation is None:
        return gettext("This invitation link is not valid. Check that you copied the whole link from the e-mail.")
    status = invitation.status_at(now or timezone.now())
    if status == Invitation.Status.USED:
        return gettext("This invitation link was already used to register. Sign in to the customer portal instead.")
    if status == Invitation.Status.REVOKED:
        return gettext("This invitation was withdrawn by %(reseller)s. Ask them for a new one.") % {
            "reseller": invitation.reseller.name}
    if status == Invitation.Status.EXPIRED:
        return gettext("This invitation link expired. Ask %(reseller)s to send it again.") % {
            "reseller": invitation.reseller.name}
    return None


def _new_uin() -> int:
    for _ in range(20):
        uin = NEW_UIN_LOW + secrets.randbelow(NEW_UIN_HIGH - NEW_UIN_LOW + 1)
        if not Customer.objects.filter(uin=uin).exists() and not Application.objects.filter(uin=uin).exists():
            return uin
    raise DomainError(gettext("No free UIN was found; try again."), code="InternalError")


def application_register(
    *, token: str, name: str, email: str, phone: str, password: str, identity_type: str, language: str = "",
) -> Application:
    """Register through an invitation: the applicant gets a UIN and a portal login, and waits for the
    reseller's decision. The invitation is used once (its row is locked, so two registrations with
    one link cannot both succeed); a used, revoked, expired or unknown link changes nothing."""
    name = text_clean(name, label=gettext("name"), limit=APPLICATION_NAME_MAX, field="name", required=True)
    email = email_clean(email)
    phone = text_clean(phone, label=gettext("phone number"), limit=APPLICATION_PHONE_MAX, field="phone", required=True)
    if identity_type not in Customer.IdentityType.values:
        raise InvalidValue(
            gettext("Choose personal or enterprise (you sent %(value)s).") % {"value": str(identity_type)[:40]},
            field="identity_type",
        )
    language = language_checked(language) if language else ""
    User = get_user_model()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update(of=("self",)).select_related("reseller").filter(
            token_digest=token_digest(str(token))).first()
        problem = invitation_problem(invitation)
        if problem:
            raise InvitationUnusable(problem)
        username = email.lower()
        if User.objects.filter(username__iexact=username).exists():
            raise InvalidValue(
                gettext("An account with this e-mail address already exists; use another address or sign in."),
                field="email",
            )
        user = User(username=username, email=email)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidValue(" ".join(exc.messages), field="password") from None
        user.set_password(password)
        user.save()
        login = CustomerLogin.objects.create(user=user)
        now = timezone.now()
        application = Application.objects.create(
            reseller=invitation.reseller, invitation=invitation, login=login, uin=_new_uin(), name=name, email=email,
            phone=phone, identity_type=identity_type, applied_at=now, language=language,
        )
        invitation.used_at = now
        invitation.save(update_fields=["used_at"])
    return application


def _application_locked(*, reseller: Reseller, uin) -> Application:
    value = uin_or_none(uin)
    application = None
    if value is not None:
        application = (Application.objects.select_for_update(of=("self",)).select_related("login")
                       .filter(reseller=reseller, uin=value).first())
    if application is None:
        raise CustomerNotBound(value, field="uin")
    if application.status != Application.Status.PENDING:
        raise ApplicationDecided(
            gettext("The application of UIN %(uin)s was already %(status)s.")
            % {"uin": application.uin, "status": application.get_status_display().lower()}
        )
    return application


# The reseller's Message Center notice of a new customer is notifications' (a layer above): its task
# is sent by name after commit (the web process has not imported notifications.tasks, so it is not
# in the app's registry); a broker failure is logged, not raised (core.broker).
CUSTOMER_BOUND_TASK = "notifications.tasks.customer_bound_notice"


def application_approve(*, reseller: Reseller, uin, actor=None) -> Customer:
    """Approve a pending application: the customer is bound (customer_create: binding time now,
    credit 0) with the UIN it got at registration, its login opens its portal, and the reseller's
    Message Center is told after commit. Another reseller's UIN is CustomerNotBound."""
    with transaction.atomic():
        application = _application_locked(reseller=reseller, uin=uin)
        now = timezone.now()
        customer = customer_create(
            reseller=reseller, uin=application.uin, name=application.name, email=application.email,
            phone=application.phone, identity_type=application.identity_type, bound_at=now,
            language=application.language,
        )
        application.status = Application.Status.APPROVED
        application.decided_at = now
        application.decided_by = actor if getattr(actor, "pk", None) else None
        application.customer = customer
        application.save(update_fields=["status", "decided_at", "decided_by", "customer"])
        application.login.customer = customer
        application.login.save(update_fields=["customer"])
        send_task_on_commit(CUSTOMER_BOUND_TASK, (customer.pk,))
    return customer


def application_reject(*, reseller: Reseller, uin, reason: str, actor=None) -> Application:
    """Reject a pending application with a reason (required), e-mailed to the applicant. Its UIN
    stays reserved; its login can sign in only to read the decision."""
    reason = text_clean(reason, label=gettext("reason for rejection"), limit=REJECT_REASON_MAX, field="reason",
                        required=True)
    with transaction.atomic():
        application = _application_locked(reseller=reseller, uin=uin)
        application.status = Application.Status.REJECTED
        application.decided_at = timezone.now()
        application.decided_by = actor if getattr(actor, "pk", None) else None
        application.reject_reason = reason
        application.save(update_fields=["status", "decided_at", "decided_by", "reject_reason"])
        # In the language the applicant registered in, not the deciding member's.
        with translation.override(application.language or settings.LANGUAGE_CODE):
            _send(
                subject=gettext("Your application to %(reseller)s was not approved") % {"reseller": reseller.name},
                template="customers/email/rejected.txt",
                context={"application": application, "reseller": reseller, "reason": reason},
                to=application.email,
            )
    return application
