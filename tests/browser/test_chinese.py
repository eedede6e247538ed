"""The walk-through in Simplified Chinese (DESIGN §9): sign in, switch the language from the user
menu, allocate, repossess, read the records. Every visible label is Chinese: no English is left
except names, e-mail addresses, numbers, UINs and the units, acronyms and zone names in ALLOWED."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers.models import Member

from .test_console import state

pytestmark = pytest.mark.browser

# Words that stay as they are in Tencent Cloud's Chinese console.
ALLOWED = {"UIN", "USD", "CSV", "API", "UTC"}


# Names: the customers', the reseller's and the user's (and its initial, the menu's avatar).
NAMES = ["Acme Games", "Blue Media", "Coral Labs", "Delta Retail", "Ember Studio", "Demo Cloud Reseller", "operator", "O"]


def english_left(page, *, names: list[str]) -> list[str]:
    """The English words in the page's visible text (innerText skips hidden elements), once the
    given names are taken out."""
    visible = re.sub(r"\S+@\S+", " ", page.locator("body").inner_text())  # e-mail addresses are data
    for name in sorted(names, key=len, reverse=True):
        visible = visible.replace(name, " ")
    return sorted({word for word in re.findall(r"[A-Za-z][A-Za-z'’-]*", visible) if word not in ALLOWED})


def open_allocate(page, uin):
    page.locator(f"#customer-{uin}").get_by_role("link", name="分配额度").click()
    dialog = page.locator("dialog.modal[open]")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("金额（USD）")).to_be_focused()
    return dialog


def allocate(page, uin, amount: str) -> None:
    """Allocate (a positive amount) or repossess (a negative one) from the customer's dialog.
    A repossession confirmation step, when there is one, is confirmed here."""
    dialog = open_allocate(page, uin)
    dialog.get_by_label("金额（USD）").fill(amount)
    dialog.get_by_role("button", name="确定").click()
    if amount.startswith("-"):
        # The repossession's confirmation step states what happens, in Chinese too.
        statement = page.locator("dialog.modal[open] #repossess-statement")
        expect(statement).to_contain_text("其可用额度将变为")
        expect(statement).to_contain_text(f"{amount[1:]}.00 USD")
        assert english_left(page, names=NAMES) == []
        page.locator("dialog.modal[open]").get_by_role("button", name=f"回收 {amount[1:]}.00 USD").click()


def test_walkthrough_in_chinese(console, open_browser):
    customer = console["customers"][0]
    names = NAMES
    b = open_browser()
    page = b.page
    page.goto("/login/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("secret-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title(re.compile("^Overview"))

    # The user menu's switch: the page comes back in Chinese and the member keeps the choice.
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="简体中文").click()
    expect(page).to_have_title(re.compile("^概览 · 合作伙伴中心"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert Member.objects.get(pk=console["operator"].pk).language == "zh-hans"
    b.shot("overview zh-hans")
    assert english_left(page, names=names) == []

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的客户").click()
    expect(page).to_have_title(re.compile("^我的客户"))
    expect(page.locator("#pool-figures")).to_contain_text("5,000.00")
    expect(page.locator("#customers thead")).to_contain_text("已用")
    b.shot("my customers zh-hans")
    assert english_left(page, names=names) == []

    dialog = open_allocate(page, customer.uin)
    expect(dialog).to_contain_text("额度池剩余")
    b.shot("allocate dialog zh-hans")
    assert english_left(page, names=names) == []
    page.keyboard.press("Escape")
    expect(page.locator("dialog.modal")).to_have_count(0)

    allocate(page, customer.uin, "100")
    expect(page.locator("#toasts")).to_contain_text("分配成功")
    expect(page.locator("dialog.modal")).to_have_count(0)
    assert state(customer) == (Decimal("100.00"), Decimal("4900.00"), 1)

    allocate(page, customer.uin, "-40")
    expect(page.locator("#toasts")).to_contain_text("回收成功")
    expect(page.locator("dialog.modal")).to_have_count(0)
    assert state(customer) == (Decimal("60.00"), Decimal("4940.00"), 2)

    # A refusal is Chinese too, beside the field.
    dialog = open_allocate(page, customer.uin)
    dialog.get_by_label("金额（USD）").fill("-100")
    dialog.get_by_role("button", name="确定").click()
    expect(page.locator("dialog.modal[open] #id_amount_error")).to_contain_text("可回收的额度不能超过客户的可用额度（60.00 USD）")
    dialog.get_by_role("tab", name="分配记录").click()
    expect(dialog.locator("#panel-records tbody tr")).to_have_count(2)
    b.shot("allocation record tab zh-hans")
    assert english_left(page, names=names) == []
    page.keyboard.press("Escape")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="分配记录").click()
    expect(page).to_have_title(re.compile("^分配记录"))
    records = page.locator("#records tbody tr")
    expect(records).to_have_count(2)
    expect(records.nth(0)).to_contain_text("回收")
    expect(records.nth(1)).to_contain_text("分配")
    b.shot("allocation records zh-hans")
    assert english_left(page, names=names) == []
