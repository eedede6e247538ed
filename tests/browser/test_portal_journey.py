"""Issue 12's journey in a real browser with the real Celery worker: the reseller invites, the
invitation e-mail holds the link, the customer registers, the reseller approves and allocates
100.00, usage pushes the customer past 75 %, and the customer signs in to its portal and sees its
credit, used, available, the alert in its Message Center and the bell's count."""

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from credits.services import usage_charge_record
from customers.models import Application, Customer, Member
from notifications.models import Message
from tests.factories import MemberFactory
from tests.notifications.test_worker import assert_enqueueing_is_real, smtp_server, wait_for, worker  # noqa: F401
from tests.onboarding import LINK

from .test_console import cell, open_allocate

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "Journey-pass-2026"


def test_invite_register_approve_allocate_alert(console, open_browser, worker):  # noqa: F811
    assert_enqueueing_is_real()
    reseller = console["reseller"]
    MemberFactory(reseller=reseller, role=Member.Role.ADMIN, user__username="boss")
    staff = open_browser("journey-reseller")
    staff.sign_in_as(console["operator"].user)
    page = staff.page

    # Invite from Customer Management › Invitations.
    page.goto("/customers/")
    page.get_by_role("navigation", name="Customer Management").get_by_role("link", name="Invitations").click()
    expect(page).to_have_title(re.compile("^Invitations"))
    page.get_by_role("link", name="Invite Customer").click()
    dialog = page.locator("dialog.modal[open]")
    dialog.get_by_label("Customer's e-mail address").fill("journey@client.example")
    dialog.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#toasts")).to_contain_text("Invitation sent to journey@client.example")
    expect(page.locator("#invitation-table")).to_contain_text("journey@client.example")
    staff.shot("invited")

    # The e-mail holds the link; the customer registers.
    [message] = [m for m in mail.outbox if m.to == ["journey@client.example"]]
    path = "/portal/register/" + LINK.search(message.body).group(1) + "/"
    customer_side = open_browser("journey-customer")
    portal = customer_side.page
    portal.goto(path)
    expect(portal.get_by_label("E-mail address")).to_have_value("journey@client.example")
    portal.get_by_label("Name").fill("Journey Games")
    portal.get_by_label("Mobile number").fill("+6581112222")
    portal.get_by_label("Personal").check()
    portal.get_by_label("Password").fill(PASSWORD)
    portal.get_by_role("button", name="Register").click()
    application = Application.objects.get()
    expect(portal.locator("#new-uin")).to_have_text(str(application.uin))
    customer_side.shot("registered")

    # The reseller approves it in Pending customers, then allocates 100.00 in My Customers.
    page.goto("/customers/pending/")
    expect(page.locator("#pending-table")).to_contain_text("Journey Games")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text("approved")
    page.goto(f"/customers/?q={application.uin}")
    expect(cell(page, application.uin, "Credit")).to_have_text("0.00")
    allocate = open_allocate(page, application.uin)
    allocate.get_by_label("Amount (USD)").fill("100.00")
    allocate.get_by_role("button", name="Confirm").click()
    expect(page.locator("#toasts")).to_contain_text("Allocation successful")
    expect(cell(page, application.uin, "Credit")).to_have_text("100.00")
    staff.shot("approved and allocated")

    # Usage arrives (as ingestion records it) and pushes the customer past 75 %: the real worker
    # evaluates it and delivers the alert to the customer's Message Center.
    customer = Customer.objects.get(uin=application.uin)
    usage_charge_record(reseller=reseller, customer_uin=customer.uin, amount="80.00", incurred_at=timezone.now(),
                        external_id="journey-1", product="CVM")
    try:
        wait_for(lambda: Message.objects.filter(customer=customer, for_customer=True).exists(),
                 "the customer's Message Center")
        wait_for(lambda: Message.objects.filter(member__reseller=reseller, alert__kind="bound").exists(),
                 "the reseller's new-customer notice")
    except BaseException:
        print("".join(worker.output[-60:]))
        raise

    # The customer signs in to its portal.
    portal.goto("/portal/login/")
    portal.get_by_label("E-mail address").fill("journey@client.example")
    portal.get_by_label("Password").fill(PASSWORD)
    portal.get_by_role("button", name="Sign in").click()
    expect(portal).to_have_title(re.compile("^Credit"))
    expect(portal.locator("#figure-credit")).to_have_text("100.00")
    expect(portal.locator("#figure-used")).to_have_text("80.00")
    expect(portal.locator("#figure-available")).to_have_text("20.00")
    bell = portal.locator("a.bell")
    expect(bell).to_have_attribute("aria-label", "Message Center, 1 unread")
    expect(bell.locator(".badge")).to_have_text("1")
    customer_side.shot("portal credit")
    bell.click()
    expect(portal).to_have_title(re.compile("^Message Center"))
    expect(portal.locator(".nc-messages")).to_contain_text(f"(UIN {customer.uin}) has used 75% of its credit")
    customer_side.shot("portal message center")
    portal.get_by_role("button", name="Mark read").click()
    expect(portal.locator("a.bell .badge")).to_have_count(0)
