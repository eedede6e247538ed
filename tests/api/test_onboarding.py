"""Onboarding and the customer's own key through the official SDK (issue 12): CreateAndSendClientInvitationMail,
QueryInvitationInfo, QueryPendingClientsV2 and ApproveClientApply with a reseller key, QueryCustomerBillingQuota
with a customer key; typed models round-trip; another reseller's UIN answers UnauthorizedOperation.UinNoAuth."""

import pytest
from django.core import mail

from api.models import ApiKey
from credits.services import credit_allocate
from customers.models import Application, Customer, Invitation
from tests.onboarding import LINK, bound_customer, register

from .conftest import error_code, make_key, models, sdk_client, sign_later

pytestmark = pytest.mark.usefixtures("world")


def invite_by_api(sdk, email="api@client.example"):
    req = models.CreateAndSendClientInvitationMailRequest()
    req.Email, req.InvitationRole, req.MaterialUrl = email, "client", "https://docs.example/kyc.pdf"
    return sdk.CreateAndSendClientInvitationMail(req)


def test_invitation_by_api_is_emailed_and_queried_by_token(world, sdk):
    resp = invite_by_api(sdk)
    assert isinstance(resp.InvitationLink, str) and "/portal/register/" in resp.InvitationLink
    assert resp.InvitationLink in mail.outbox[-1].body and "https://docs.example/kyc.pdf" in mail.outbox[-1].body
    token = LINK.search(resp.InvitationLink).group(1)
    invitation = Invitation.objects.get(reseller=world.reseller)
    assert invitation.created_by == world.operator.user

    req = models.QueryInvitationInfoRequest()
    req.InvitationToken = [token, "not-a-token"]
    [info] = sdk.QueryInvitationInfo(req).InvitationInfo
    assert isinstance(info, models.QueryInvitationInfoData)
    assert (info.InvitationToken, info.Status, info.UseTime, info.ClientUin, info.ClientMail, info.BindTime) == (
        token, 1, "", 0, "", "")
    assert len(info.CreateTime) == len("2026-01-01 00:00:00")

    from customers.services import application_approve, application_register
    application = application_register(token=token, name="Api Client", email="api@client.example",
                                       phone="+6580000000", password="Portal-pass-2026!", identity_type="personal")
    info = sdk.QueryInvitationInfo(req).InvitationInfo[0]
    assert (info.Status, info.ClientUin, info.ClientMail, info.ClientType, info.BindTime) == (
        2, application.uin, "api@client.example", 1, "")
    assert len(info.UseTime) == 19
    application_approve(reseller=world.reseller, uin=application.uin)
    assert len(sdk.QueryInvitationInfo(req).InvitationInfo[0].BindTime) == 19


def test_another_resellers_token_is_left_out(world, sdk, endpoint):
    token = LINK.search(invite_by_api(sdk).InvitationLink).group(1)
    other = sdk_client(endpoint, *_other_key(world))
    req = models.QueryInvitationInfoRequest()
    req.InvitationToken = [token]
    assert other.QueryInvitationInfo(req).InvitationInfo == []


def _other_key(world):
    from tests.factories import MemberFactory

    key = make_key(MemberFactory(reseller=world.other_reseller).user)
    return key.secret_id, key.secret_key


def test_invitation_refusals(world, sdk, viewer_sdk):
    req = models.CreateAndSendClientInvitationMailRequest()
    req.Email = "not an address"
    assert error_code(sdk.CreateAndSendClientInvitationMail, req) == "InvalidParameterValue"
    req.Email, req.InvitationRole = "a@example.com", "reseller"
    assert error_code(sdk.CreateAndSendClientInvitationMail, req) == "InvalidParameterValue"
    req.InvitationRole = "client"
    assert error_code(viewer_sdk.CreateAndSendClientInvitationMail, req) == "UnauthorizedOperation"
    assert Invitation.objects.count() == 0 and mail.outbox == []
    query = models.QueryInvitationInfoRequest()
    query.InvitationToken = []
    assert error_code(sdk.QueryInvitationInfo, query) == "InvalidParameterValue.InvitationToken"


def test_pending_clients_and_approval(world, sdk, monkeypatch):
    first = register(world.reseller, email="first@client.example", name="First")
    second = register(world.reseller, email="second@client.example", name="Second")
    req = models.QueryPendingClientsV2Request()
    req.Page, req.PageSize = 1, 1
    resp = sdk.QueryPendingClientsV2(req)
    assert resp.Total == 2
    [item] = resp.Data
    assert isinstance(item, models.QueryPendingCustomersItem)
    assert (item.ClientUin, item.Name, item.Email, item.Mobile, item.Status, item.Type) == (
        second.uin, "Second", "second@client.example", "+6581234567", "pending", "enterprise")
    assert len(item.ApplyTime) == 19
    req.Page = 2
    assert [i.ClientUin for i in sdk.QueryPendingClientsV2(req).Data] == [first.uin]

    approve = models.ApproveClientApplyRequest()
    approve.ClientUin, approve.ApproveType = first.uin, "pass"
    assert sdk.ApproveClientApply(approve).RequestId
    customer = Customer.objects.get(uin=first.uin)
    assert customer.reseller == world.reseller and customer.credit == 0
    # Now in the API's customer list, the other still not.
    listed = models.QueryCreditByUinListRequest()
    listed.UinList = [first.uin]
    assert [row.Uin for row in sdk.QueryCreditByUinList(listed).Data] == [first.uin]
    listed.UinList = [second.uin]
    assert error_code(sdk.QueryCreditByUinList, listed) == "UnauthorizedOperation.UinNoAuth"

    reject = models.ApproveClientApplyRequest()
    reject.ClientUin, reject.ApproveType = second.uin, "reject"
    assert error_code(sdk.ApproveClientApply, reject) == "InvalidParameterValue"
    reject.RejectReason = "Incomplete documents"
    mail.outbox.clear()
    sdk.ApproveClientApply(reject)
    assert Application.objects.get(uin=second.uin).status == "rejected" and "Incomplete documents" in mail.outbox[0].body
    assert sdk.QueryPendingClientsV2(models.QueryPendingClientsV2Request()).Total == 0
    sign_later(monkeypatch, 5)  # a new request, not a replay of the first approval
    assert error_code(sdk.ApproveClientApply, approve) == "FailedOperation.ApplicationAlreadyDecided"


def test_another_resellers_uin_is_uin_no_auth(world, sdk, viewer_sdk):
    from tests.factories import MemberFactory  # noqa: F401

    theirs = register(world.other_reseller, email="theirs@client.example")
    req = models.ApproveClientApplyRequest()
    req.ClientUin, req.ApproveType = theirs.uin, "pass"
    assert error_code(sdk.ApproveClientApply, req) == "UnauthorizedOperation.UinNoAuth"
    req.ClientUin = world.customers[0].uin  # a bound customer has no pending application
    assert error_code(sdk.ApproveClientApply, req) == "UnauthorizedOperation.UinNoAuth"
    mine = register(world.reseller, email="mine@client.example")
    req.ClientUin = mine.uin
    assert error_code(viewer_sdk.ApproveClientApply, req) == "UnauthorizedOperation"
    assert not Customer.objects.filter(uin__in=[theirs.uin, mine.uin]).exists()


def test_customer_key_answers_its_own_quota_and_nothing_else(world, sdk, endpoint):
    customer, user = bound_customer(world.reseller)
    credit_allocate(reseller=world.reseller, customer=customer, amount="100.00")
    from tests.pages import set_used
    set_used(customer, "80.25")
    key = make_key(user)
    customer_sdk = sdk_client(endpoint, key.secret_id, key.secret_key)
    data = customer_sdk.QueryCustomerBillingQuota(models.QueryCustomerBillingQuotaRequest()).Data
    assert isinstance(data, models.QueryCustomerBillingQuotaData)
    assert (data.TotalCredit, data.RemainingCredit, data.RemainingVoucher, data.Force, data.PrepayFrozen,
            data.PostpayFrozen) == (100.0, 19.75, 0.0, 0, 0.0, 0.0)
    assert isinstance(data.TotalCredit, float) and isinstance(data.Force, int)
    from notifications.services.status import customer_freeze
    customer_freeze(reseller=world.reseller, customer=customer.pk, actor=world.operator.user, actor_name="operator")
    assert customer_sdk.QueryCustomerBillingQuota(models.QueryCustomerBillingQuotaRequest()).Data.Force == 2
    assert error_code(customer_sdk.QueryPartnerCredit, models.QueryPartnerCreditRequest()) == "UnauthorizedOperation"
    info = models.DescribeCustomerInfoRequest()
    info.CustomerUin = [customer.uin]
    assert error_code(customer_sdk.DescribeCustomerInfo, info) == "UnauthorizedOperation"
    assert error_code(customer_sdk.QueryPendingClientsV2, models.QueryPendingClientsV2Request()) == "UnauthorizedOperation"
    # A reseller's key is not a customer's.
    assert error_code(sdk.QueryCustomerBillingQuota, models.QueryCustomerBillingQuotaRequest()) == "UnauthorizedOperation"
    assert ApiKey.objects.filter(user=user).count() == 1


def test_a_pending_applicant_cannot_hold_a_key(world):
    from api.services import api_key_create
    from core.errors import NotPermitted

    application = register(world.reseller)
    with pytest.raises(NotPermitted):
        api_key_create(user=application.login.user)
    assert ApiKey.objects.filter(user=application.login.user).count() == 0
