"""Races on onboarding (PostgreSQL, real threads): one invitation link registered twice at once, one
application approved and rejected at once."""

from functools import partial

import pytest

from customers import services
from customers.models import Application, Customer, CustomerLogin
from tests.factories import ResellerFactory
from tests.onboarding import PASSWORD, invite, register
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_link_registers_once():
    reseller = ResellerFactory()
    _, token = invite(reseller)

    def attempt(n):
        services.application_register(token=token, name=f"Racer {n}", email=f"racer{n}@client.example",
                                      phone="+6581234567", password=PASSWORD, identity_type="personal")

    errors = run_together([partial(attempt, n) for n in range(4)])
    assert len(errors) == 3 and all("InvitationUnusable" in error for error in errors)
    assert Application.objects.count() == 1 and CustomerLogin.objects.count() == 1


def test_approve_and_reject_at_once_decide_once():
    reseller = ResellerFactory()
    application = register(reseller)
    errors = run_together([
        lambda: services.application_approve(reseller=reseller, uin=application.uin),
        lambda: services.application_reject(reseller=reseller, uin=application.uin, reason="No"),
    ])
    assert len(errors) == 1 and "ApplicationDecided" in errors[0]
    application.refresh_from_db()
    assert application.status in ("approved", "rejected")
    assert Customer.objects.filter(uin=application.uin).exists() == (application.status == "approved")
