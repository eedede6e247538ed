"""A pool grant's note and an application's review note longer than their 255-character columns
are refused with the limit, and nothing is written. They were cut to 255 characters silently."""

from decimal import Decimal

import pytest

from core.errors import InvalidValue
from credits.models import CreditPool, PoolApplication, PoolGrant
from credits.services import pool_application_approve, pool_application_reject, pool_application_submit, pool_grant

pytestmark = pytest.mark.django_db
TOO_LONG = "n" * 256


def test_an_over_long_grant_note_is_refused_and_the_pool_does_not_move(reseller):
    with pytest.raises(InvalidValue) as refused:
        pool_grant(reseller=reseller, amount="100.00", note=TOO_LONG)
    assert refused.value.message == "The note is 256 characters long; it can be at most 255."
    assert not PoolGrant.objects.exists()
    assert CreditPool.objects.get(reseller=reseller).total == Decimal("0.00")


@pytest.mark.parametrize("review", [pool_application_approve, pool_application_reject])
def test_an_over_long_review_note_is_refused_and_the_application_stays_pending(reseller, review):
    application = pool_application_submit(reseller=reseller, amount="500.00", reason="Growth")
    with pytest.raises(InvalidValue) as refused:
        review(application=application, note=TOO_LONG)
    assert refused.value.message == "The review note is 256 characters long; it can be at most 255."
    application.refresh_from_db()
    assert application.status == "pending" and application.review_note == ""
    assert not PoolGrant.objects.exists()


def test_notes_within_the_limit_are_kept_whole(reseller):
    note = "k" * 255
    assert pool_grant(reseller=reseller, amount="1.00", note=note).note == note
    application = pool_application_submit(reseller=reseller, amount="5.00", reason="Growth")
    assert PoolApplication.objects.get(pk=pool_application_reject(application=application, note=note).pk).review_note == note
