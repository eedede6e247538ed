from decimal import Decimal

import pytest

from notifications.transports import sms
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def shop(db):
    """A reseller (UTC+8) with a contact address and phone, an admin member who takes e-mail and
    Message Center, a viewer who takes only the Message Center, and one customer with 100.00 credit."""
    reseller = ResellerFactory(contact_email="ops@shop.example", contact_phone="+6580001111")
    admin = MemberFactory(reseller=reseller, role="admin", user=UserFactory(username="shop-admin", email="admin@shop.example"))
    viewer = MemberFactory(reseller=reseller, role="viewer", alert_email=False,
                           user=UserFactory(username="shop-viewer", email="viewer@shop.example"))
    customer = CustomerFactory(reseller=reseller, credit=Decimal("100.00"), email="bill@cust.example", phone="+6590002222")
    return type("Shop", (), {"reseller": reseller, "admin": admin, "viewer": viewer, "customer": customer})


def set_usage(customer, *, credit=None, used=None):
    from customers.models import CustomerBalance

    fields = {}
    if credit is not None:
        fields["credit"] = Decimal(credit)
    if used is not None:
        fields["used"] = Decimal(used)
    CustomerBalance.objects.filter(pk=customer.pk).update(**fields)
    customer.refresh_from_db()
    return customer
