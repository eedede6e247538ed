"""English and Simplified Chinese in the console (DESIGN §9): the member's stored language, the
user menu's switch (Django's set_language), the browser's language before a member picks one."""

import json

import pytest
from django.test import Client

from core.errors import InvalidValue
from customers.models import Member
from customers.services import member_language_set
from tests.pages import body, client_for, htmx

pytestmark = pytest.mark.django_db


def _speaks(member: Member, language: str) -> Client:
    Member.objects.filter(pk=member.pk).update(language=language)
    return client_for(member.user)


def test_a_zh_hans_member_reads_my_customers_in_chinese(operator, customer):
    html = body(_speaks(operator, "zh-hans").get("/customers/"))
    assert '<html lang="zh-hans">' in html
    for label in ["客户管理", "我的客户", "分配记录", "消息中心", "设置", "搜索", "额度", "已用", "可用", "分配额度", "账号状态"]:
        assert label in html, label
    for english in ["My Customers", "Allocation Records", "Message Center", "Allocate Credit", "Account status",
                    "UIN, name, remark or email"]:
        assert english not in html, english
    assert 'placeholder="UIN、名称、备注或邮箱"' in html  # the search box's hint too
    assert customer.name in html and str(customer.uin) in html


def test_the_allocate_dialog_and_its_answer_are_chinese(operator, customer):
    client = _speaks(operator, "zh-hans")
    url = f"/customers/{customer.uin}/allocate/"
    html = body(client.get(url, **htmx("modal")))
    for label in ["分配额度", "分配记录", "额度池剩余", "金额（USD）", "备注", "确定", "取消", "暂无分配记录。"]:
        assert label in html, label
    assert "Allocate Credit" not in html and "Cancel" not in html
    refused = body(client.post(url, {"amount": "0", "idempotency_key": "k0"}, **htmx("modal")))
    assert "金额不能为 0" in refused
    done = client.post(url, {"amount": "10", "idempotency_key": "k1"}, **htmx("modal"))
    assert json.loads(done["HX-Trigger"])["showMessage"]["text"] == "分配成功"


def test_english_is_the_default(operator, customer):
    html = body(client_for(operator.user).get("/customers/"))
    assert '<html lang="en">' in html and "My Customers" in html and "我的客户" not in html


def test_the_user_menu_switch_stores_the_members_language(operator, customer):
    client = client_for(operator.user)
    html = body(client.get("/customers/"))
    assert 'action="/i18n/setlang/"' in html and 'name="language" value="zh-hans"' in html
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/customers/"})
    assert response.status_code == 302 and response["Location"] == "/customers/"
    operator.refresh_from_db()
    assert operator.language == "zh-hans"
    assert "我的客户" in body(client.get("/customers/"))
    # Stored on the member, not only in this browser's cookie: another browser signs in in Chinese.
    assert "我的客户" in body(client_for(operator.user).get("/customers/"))
    client.post("/i18n/setlang/", {"language": "en", "next": "/customers/"})
    assert "My Customers" in body(client.get("/customers/"))


def test_a_viewer_may_pick_its_own_language(viewer, customer):
    client = client_for(viewer.user)
    assert client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}).status_code == 302
    viewer.refresh_from_db()
    assert viewer.language == "zh-hans"


def test_an_unknown_language_changes_nothing(operator):
    client = client_for(operator.user)
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/customers/"})
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.language == ""
    with pytest.raises(InvalidValue) as refused:
        member_language_set(member=operator, language="fr")
    assert "en, zh-hans" in refused.value.message
    operator.refresh_from_db()
    assert operator.language == ""


def test_the_switch_is_a_post(operator):
    assert client_for(operator.user).get("/i18n/setlang/").status_code == 405


def test_before_sign_in_the_browser_or_the_cookie_decides():
    anonymous = Client()
    assert "用户名" in body(anonymous.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"))
    assert "Username" in body(anonymous.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US"))
    anonymous.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert "用户名" in body(anonymous.get("/login/"))


def test_the_members_language_wins_over_the_browsers(operator, customer):
    client = _speaks(operator, "en")
    assert "My Customers" in body(client.get("/customers/", HTTP_ACCEPT_LANGUAGE="zh-CN"))
    client = _speaks(operator, "zh-hans")
    assert "我的客户" in body(client.get("/customers/", HTTP_ACCEPT_LANGUAGE="en-US"))


def test_anonymous_is_sent_to_sign_in_in_either_language():
    assert Client().get("/customers/", HTTP_ACCEPT_LANGUAGE="zh-CN").status_code == 302


def test_numbers_and_dates_are_written_one_way_in_both_languages():
    from datetime import date, datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.template import Context, Template
    from django.utils import translation

    template = Template(
        "{% load console %}{{ amount|money }} | {{ count|floatformat:'0g' }} | {{ day|date }} | {{ day }} | {{ at|zoned }}"
    )
    context = {"amount": Decimal("1234567.5"), "count": 123456, "day": date(2026, 11, 30),
               "at": datetime(2026, 11, 30, 1, 2, 3, tzinfo=ZoneInfo("UTC"))}
    written = {}
    for language in ["en", "zh-hans"]:
        with translation.override(language):
            written[language] = template.render(Context(context))
    assert written["en"] == written["zh-hans"]
    assert written["en"].startswith("1,234,567.50 | 123,456 | 2026-11-30 | 2026-11-30 | 2026-11-30")


def test_a_date_filter_keeps_its_iso_value_in_chinese(operator):
    html = body(_speaks(operator, "zh-hans").get("/records/?date_from=2026-11-01"))
    assert 'value="2026-11-01"' in html
