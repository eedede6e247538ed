"""The stored account status (the database's CASE) and account_status_of (the same rule for
values in hand) give the same answer for every combination."""

from datetime import timedelta
from decimal import Decimal
from itertools import product

import pytest
from django.utils import timezone

from customers.models import CustomerBalance, account_status_of
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_stored_status_and_account_status_of_agree():
    customer = CustomerFactory(credit=Decimal("10.00"))
    now = timezone.now()
    for frozen, suspended, deleted, used in product([False, True], [False, True], [False, True], ["5.00", "15.00"]):
        if deleted and not suspended:
            continue
        fields = {"frozen": frozen, "suspended_at": now if suspended else None,
                  "data_deleted_at": now + timedelta(days=15) if deleted else None, "used": Decimal(used)}
        CustomerBalance.objects.filter(pk=customer.pk).update(**fields)
        stored = CustomerBalance.objects.get(pk=customer.pk).status
        expected = account_status_of(frozen=frozen, suspended_at=fields["suspended_at"],
                                     data_deleted_at=fields["data_deleted_at"],
                                     available=Decimal("10.00") - Decimal(used))
        assert stored == expected, fields
