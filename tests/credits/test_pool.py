from decimal import Decimal

import pytest

from core.errors import DomainError, InvalidAmount, InvalidValue
from credits.models import CreditPool, PoolApplication, PoolGrant
from credits.services import pool_application_approve, pool_application_reject, pool_application_submit, pool_grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_grant_adds_to_total_and_remaining(reseller):
    pool_grant(reseller=reseller, amount="500.00")
    pool_grant(reseller=reseller, amount="250.50")
    pool = CreditPool.objects.get(reseller=reseller)
    assert pool.total == Decimal("750.50") and pool.remaining == Decimal("750.50") and pool.allocated == 0


@pytest.mark.parametrize("amount", ["-5", "0", "1.005"])
def test_grant_refuses_bad_amounts(reseller, amount):
    with pytest.raises(InvalidAmount):
        pool_grant(reseller=reseller, amount=amount)
    assert not PoolGrant.objects.exists()
    assert CreditPool.objects.get(reseller=reseller).total == 0


def test_application_approve_grants_once(reseller):
    reviewer = UserFactory()
    application = pool_application_submit(reseller=reseller, amount="1000", reason="Q4 growth")
    assert application.status == "pending"
    pool_application_approve(application=application, actor=reviewer)
    application.refresh_from_db()
    assert application.status == "approved" and application.reviewed_by == reviewer and application.reviewed_at
    assert CreditPool.objects.get(reseller=reseller).total == Decimal("1000.00")
    with pytest.raises(DomainError, match="already approved"):
        pool_application_approve(application=application, actor=reviewer)
    with pytest.raises(DomainError, match="already approved"):
        pool_application_reject(application=application, actor=reviewer)
    assert PoolGrant.objects.count() == 1
    assert CreditPool.objects.get(reseller=reseller).total == Decimal("1000.00")


def test_application_reject_grants_nothing(reseller):
    application = pool_application_submit(reseller=reseller, amount="1000", reason="Q4 growth")
    pool_application_reject(application=application, note="Not now")
    application.refresh_from_db()
    assert application.status == "rejected" and application.review_note == "Not now"
    assert not PoolGrant.objects.exists()


@pytest.mark.parametrize("amount, reason, error", [("0", "x", InvalidAmount), ("10", "  ", InvalidValue), ("-1", "x", InvalidAmount)])
def test_application_refusals_write_nothing(reseller, amount, reason, error):
    with pytest.raises(error):
        pool_application_submit(reseller=reseller, amount=amount, reason=reason)
    assert not PoolApplication.objects.exists()
