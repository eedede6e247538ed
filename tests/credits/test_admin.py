from decimal import Decimal

import pytest
from django.urls import reverse

from credits.models import AllocationRecord, CreditPool, PoolApplication, PoolGrant
from credits.services import credit_allocate, pool_application_submit
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("platform", "ops@example.com", "platform-password")
    client.force_login(admin)
    return client


def test_approve_action_grants_through_the_service(operator_client, reseller):
    application = pool_application_submit(reseller=reseller, amount="700.00", reason="New customers")
    url = reverse("admin:credits_poolapplication_changelist")
    response = operator_client.post(url, {"action": "approve", "_selected_action": [application.pk]}, follow=True)
    assert response.status_code == 200
    assert "Approved 1 application" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "approved"
    assert CreditPool.objects.get(reseller=reseller).total == Decimal("700.00")
    # A second approval is refused with the service's message and grants nothing more.
    response = operator_client.post(url, {"action": "approve", "_selected_action": [application.pk]}, follow=True)
    assert "already approved" in response.content.decode()
    assert PoolGrant.objects.count() == 1


def test_reject_action(operator_client, reseller):
    application = pool_application_submit(reseller=reseller, amount="700.00", reason="New customers")
    operator_client.post(reverse("admin:credits_poolapplication_changelist"),
                         {"action": "reject", "_selected_action": [application.pk]})
    assert PoolApplication.objects.get(pk=application.pk).status == "rejected"
    assert not PoolGrant.objects.exists()


def test_grant_added_in_admin_moves_the_pool(operator_client, reseller):
    response = operator_client.post(reverse("admin:credits_poolgrant_add"),
                                    {"reseller": reseller.pk, "amount": "250.00", "note": "Promo"})
    assert response.status_code == 302
    pool = CreditPool.objects.get(reseller=reseller)
    assert pool.total == Decimal("250.00") and pool.remaining == Decimal("250.00")


def test_allocation_records_are_read_only_in_admin(operator_client, funded_reseller):
    customer = CustomerFactory(reseller=funded_reseller)
    record = credit_allocate(reseller=funded_reseller, customer=customer, amount="5")
    assert operator_client.get(reverse("admin:credits_allocationrecord_changelist")).status_code == 200
    assert operator_client.get(reverse("admin:credits_allocationrecord_add")).status_code == 403
    change = operator_client.get(reverse("admin:credits_allocationrecord_change", args=[record.pk]))
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert operator_client.post(reverse("admin:credits_allocationrecord_delete", args=[record.pk]),
                                {"post": "yes"}).status_code == 403
    assert AllocationRecord.objects.filter(pk=record.pk).exists()


def test_customer_search_by_uin_name_email(operator_client, reseller):
    customer = CustomerFactory(reseller=reseller, name="Findable Games", email="find@games.example")
    url = reverse("admin:customers_customer_changelist")
    for query in [str(customer.uin), "Findable", "find@games"]:
        assert "Findable Games" in operator_client.get(url, {"q": query}).content.decode()


def test_reseller_admin_lists_members(operator_client, reseller):
    from tests.factories import MemberFactory

    member = MemberFactory(reseller=reseller)
    page = operator_client.get(reverse("admin:customers_reseller_change", args=[reseller.pk])).content.decode()
    assert member.user.username in page


def test_repayments_are_listed_read_only_in_admin(operator_client, funded_reseller):
    from credits.models import Repayment
    from credits.services import repayment_confirm
    from customers.models import CustomerBalance

    customer = CustomerFactory(reseller=funded_reseller)
    CustomerBalance.objects.filter(pk=customer.pk).update(used=Decimal("9.00"))
    repayment = repayment_confirm(reseller=funded_reseller, customer=customer, amount="4", actor=None, idempotency_key="a")
    listing = operator_client.get(reverse("admin:credits_repayment_changelist"))
    assert listing.status_code == 200 and str(customer.uin) in listing.content.decode()
    assert operator_client.get(reverse("admin:credits_repayment_add")).status_code == 403
    assert operator_client.post(reverse("admin:credits_repayment_delete", args=[repayment.pk]),
                                {"post": "yes"}).status_code == 403
    assert Repayment.objects.filter(pk=repayment.pk).exists()


def test_a_user_who_allocated_cannot_be_deleted_only_deactivated(operator_client, funded_reseller, django_user_model):
    from tests.factories import UserFactory

    user = UserFactory()
    credit_allocate(reseller=funded_reseller, customer=CustomerFactory(reseller=funded_reseller), amount="5", actor=user)
    page = operator_client.post(reverse("admin:auth_user_delete", args=[user.pk]), {"post": "yes"})
    assert page.status_code == 200 and "<title>Cannot delete user" in page.content.decode()
    assert django_user_model.objects.filter(pk=user.pk).exists()


def reseller_form(**fields) -> dict:
    """The admin's add-reseller form as a browser posts it, with its members inline."""
    members = fields.pop("members", [])
    data = {
        "name": "Harbor Cloud", "uin": "500000000777", "contact_email": "ops@harbor.example", "contact_phone": "",
        "time_zone": "Asia/Singapore", "customer_alerts_enabled": "on", "contact_alert_email": "on",
        "created_at_0": "2026-01-05", "created_at_1": "09:00:00",
        "members-TOTAL_FORMS": str(len(members)), "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0", "members-MAX_NUM_FORMS": "1000",
    }
    for index, (user, role) in enumerate(members):
        data.update({f"members-{index}-user": user.pk, f"members-{index}-role": role,
                     f"members-{index}-alert_email": "on", f"members-{index}-alert_inbox": "on"})
    return {**data, **fields}


def test_a_reseller_onboarded_in_admin_comes_with_its_pool_and_members(operator_client):
    from customers.models import Member, Reseller
    from tests.factories import UserFactory

    user = UserFactory(username="harbor-admin")
    response = operator_client.post(reverse("admin:customers_reseller_add"), reseller_form(members=[(user, "admin")]))
    assert response.status_code == 302
    reseller = Reseller.objects.get(uin=500000000777)
    assert (reseller.name, reseller.time_zone, reseller.contact_email) == ("Harbor Cloud", "Asia/Singapore", "ops@harbor.example")
    pool = CreditPool.objects.get(reseller=reseller)
    assert (pool.total, pool.remaining) == (0, 0)
    assert list(Member.objects.filter(reseller=reseller).values_list("user__username", "role")) == [("harbor-admin", "admin")]
    # The pool takes the channel manager's first grant.
    operator_client.post(reverse("admin:credits_poolgrant_add"), {"reseller": reseller.pk, "amount": "1000.00", "note": ""})
    assert CreditPool.objects.get(reseller=reseller).remaining == Decimal("1000.00")


@pytest.mark.parametrize("fields", [
    {"uin": ""}, {"uin": "abc"}, {"uin": str(2**63)}, {"uin": "0"}, {"uin": "-3"},
    {"name": "  "}, {"name": "Harbor\x00Cloud"}, {"time_zone": "Mars/Base"},
])
def test_a_refused_reseller_in_admin_writes_nothing(operator_client, fields):
    from customers.models import Reseller

    response = operator_client.post(reverse("admin:customers_reseller_add"), reseller_form(**fields))
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not Reseller.objects.filter(name__startswith="Harbor").exists() and not CreditPool.objects.exists()


def test_a_reseller_uin_already_onboarded_is_refused_in_admin(operator_client, reseller):
    from customers.models import Reseller

    response = operator_client.post(reverse("admin:customers_reseller_add"), reseller_form(uin=str(reseller.uin)))
    assert response.status_code == 200 and "uin" in response.context["adminform"].form.errors
    assert Reseller.objects.filter(uin=reseller.uin).count() == 1 and CreditPool.objects.count() == 1
