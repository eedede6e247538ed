"""Helpers for onboarding tests: invite, register, approve through the services, as a reseller and
its invitee would; the token comes out of the invitation e-mail (mail.outbox)."""

import re

from django.core import mail

from customers import services
from customers.models import Customer

PASSWORD = "Portal-pass-2026!"
LINK = re.compile(r"https?://\S+/portal/register/([\w-]+)/")


def token_in_last_mail() -> str:
    return LINK.search(mail.outbox[-1].body).group(1)


def invite(reseller, email="new@client.example"):
    invitation, link = services.invitation_create(reseller=reseller, email=email)
    return invitation, LINK.search(link).group(1)


def register(reseller, email="new@client.example", name="New Client Ltd", password=PASSWORD):
    _, token = invite(reseller, email)
    return services.application_register(token=token, name=name, email=email, phone="+6581234567",
                                         password=password, identity_type=Customer.IdentityType.ENTERPRISE)


def bound_customer(reseller, email="new@client.example", name="New Client Ltd"):
    """A customer that registered and was approved: (customer, its login's user)."""
    application = register(reseller, email=email, name=name)
    customer = services.application_approve(reseller=reseller, uin=application.uin)
    return customer, application.login.user
