"""API Keys pages, the API reference page, create_api_key and encryption at rest."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from api.crypto import decrypt_secret
from api.models import ApiKey
from api.services import KEYS_PER_USER, api_key_create
from customers.models import Member
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsider():
    return MemberFactory(role=Member.Role.ADMIN)


def _login(client, member):
    client.force_login(member.user)
    return client


def test_anonymous_is_sent_to_login(client):
    for url in [reverse("api_keys"), reverse("api_docs")]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = client.post(reverse("api_keys"), {"description": "x"})
    assert response.status_code == 302 and not ApiKey.objects.exists()


def test_create_shows_the_secret_key_once_and_stores_it_encrypted(client, operator):
    response = _login(client, operator).post(reverse("api_keys"), {"description": "billing sync"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get(user=operator.user)
    secret_key = response.context["secret_key"]
    assert key.secret_id in response.content.decode() and secret_key in response.content.decode()
    assert key.description == "billing sync" and key.enabled
    # Encrypted at rest: the stored value is not the SecretKey and does not contain it, but decrypts to it.
    assert secret_key not in key.secret_key_encrypted
    assert decrypt_secret(key.secret_key_encrypted) == secret_key
    listing = client.get(reverse("api_keys")).content.decode()
    assert key.secret_id in listing and secret_key not in listing and "Never" in listing


def test_create_refuses_a_too_long_description(client, operator):
    response = _login(client, operator).post(reverse("api_keys"), {"description": "x" * 101})
    assert response.status_code == 200 and response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_viewer_may_hold_read_only_keys(client, viewer):
    response = _login(client, viewer).post(reverse("api_keys"), {"description": ""})
    assert response.status_code == 200
    assert ApiKey.objects.filter(user=viewer.user).count() == 1
    assert "can read" in client.get(reverse("api_keys")).content.decode()


def test_member_sees_and_manages_only_their_own_keys(client, operator, viewer):
    own, _ = api_key_create(user=operator.user)
    colleague, _ = api_key_create(user=viewer.user)
    _login(client, operator)

    page = client.get(reverse("api_keys")).content.decode()
    assert own.secret_id in page and colleague.secret_id not in page

    assert client.post(reverse("api_key_disable", args=[colleague.pk])).status_code == 404
    assert client.post(reverse("api_key_delete", args=[colleague.pk])).status_code == 404
    assert ApiKey.objects.get(pk=colleague.pk).enabled

    assert client.post(reverse("api_key_disable", args=[own.pk])).status_code == 302
    assert not ApiKey.objects.get(pk=own.pk).enabled
    assert client.post(reverse("api_key_enable", args=[own.pk])).status_code == 302
    assert ApiKey.objects.get(pk=own.pk).enabled
    assert client.post(reverse("api_key_delete", args=[own.pk])).status_code == 302
    assert not ApiKey.objects.filter(pk=own.pk).exists()


def test_viewer_cannot_touch_an_operators_key(client, operator, viewer):
    key, _ = api_key_create(user=operator.user)
    _login(client, viewer)
    assert client.post(reverse("api_key_disable", args=[key.pk])).status_code == 404
    assert client.post(reverse("api_key_delete", args=[key.pk])).status_code == 404
    assert ApiKey.objects.get(pk=key.pk).enabled


def test_reseller_admin_manages_every_key_of_the_reseller(client, admin_member, operator, outsider):
    operator_key, _ = api_key_create(user=operator.user)
    foreign_key, _ = api_key_create(user=outsider.user)
    _login(client, admin_member)

    page = client.get(reverse("api_keys")).content.decode()
    assert operator_key.secret_id in page and operator.user.username in page
    assert foreign_key.secret_id not in page

    assert client.post(reverse("api_key_disable", args=[operator_key.pk])).status_code == 302
    assert not ApiKey.objects.get(pk=operator_key.pk).enabled
    # Another reseller's key does not exist as far as this admin is concerned.
    assert client.post(reverse("api_key_delete", args=[foreign_key.pk])).status_code == 404
    assert ApiKey.objects.filter(pk=foreign_key.pk).exists()


def test_manage_actions_need_post(client, operator):
    key, _ = api_key_create(user=operator.user)
    assert _login(client, operator).get(reverse("api_key_delete", args=[key.pk])).status_code == 405
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_user_without_membership_gets_the_console_explanation_and_no_key(client):
    # The console's one access rule (console.access.member_required), as on every console page.
    client.force_login(UserFactory())
    for url in [reverse("api_keys"), reverse("api_docs")]:
        response = client.get(url)
        assert response.status_code == 200 and "not a member of any reseller" in response.content.decode()
    assert client.post(reverse("api_keys"), {"description": ""}).status_code == 403
    assert not ApiKey.objects.exists()


def test_key_count_is_capped(operator):
    for _ in range(KEYS_PER_USER):
        api_key_create(user=operator.user)
    with pytest.raises(Exception) as info:
        api_key_create(user=operator.user)
    assert info.value.code == "LimitExceeded.ApiKey"
    assert ApiKey.objects.filter(user=operator.user).count() == KEYS_PER_USER


def test_docs_page_lists_every_action_with_parameters_errors_and_example(client, viewer):
    from api.actions import ACTIONS

    response = _login(client, viewer).get(reverse("api_docs"))
    page = response.content.decode()
    assert response.status_code == 200
    for name in ["QueryPartnerCredit", "QueryCustomersCredit", "QueryCreditByUinList", "QueryDirectCustomersCredit",
                 "AllocateCustomerCredit", "QueryCreditAllocationHistory", "DescribeCustomerInfo",
                 "DescribeCustomerUin", "ModifyClientRemark", "ReportCustomerUsage"]:
        assert name in ACTIONS and f'id="{name}"' in page
    assert "client.AllocateCustomerCredit(req)" in page and "ClientToken" in page
    assert "UnauthorizedOperation.UinNoAuth" in page and "InvalidParameter.Page" in page
    assert "Charges.N.ExternalId" in page
    # CSP forbids inline script and style: only <script src=...> from the layout may appear.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page


def test_create_api_key_command_prints_a_working_pair(operator):
    out = StringIO()
    call_command("create_api_key", "--user", operator.user.username, stdout=out)
    lines = dict(line.split(":", 1) for line in out.getvalue().splitlines() if line.startswith("Secret"))
    key = ApiKey.objects.get(user=operator.user)
    assert lines["SecretId"].strip() == key.secret_id
    assert decrypt_secret(key.secret_key_encrypted) == lines["SecretKey"].strip()


def test_create_api_key_command_refuses_unknown_and_non_member_users():
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_key", "--user", "nobody")
    UserFactory(username="staffer")
    with pytest.raises(CommandError, match="not a member"):
        call_command("create_api_key", "--user", "staffer")
    assert not ApiKey.objects.exists()


def test_admin_creates_shows_once_disables_and_deletes(client, operator, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:api_apikey_add"), {"user": operator.user.pk, "description": "from admin"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get(user=operator.user)
    secret_key = response.context["secret_key"]
    assert secret_key in response.content.decode() and decrypt_secret(key.secret_key_encrypted) == secret_key
    assert key.description == "from admin"

    change_page = client.get(reverse("admin:api_apikey_change", args=[key.pk])).content.decode()
    assert key.secret_id in change_page and secret_key not in change_page and key.secret_key_encrypted not in change_page

    client.post(reverse("admin:api_apikey_changelist"), {"action": "disable_keys", "_selected_action": [key.pk]})
    assert not ApiKey.objects.get(pk=key.pk).enabled
    client.post(reverse("admin:api_apikey_delete", args=[key.pk]), {"post": "yes"})
    assert not ApiKey.objects.filter(pk=key.pk).exists()


def test_admin_offers_only_reseller_members(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:api_apikey_add"), {"user": admin_user.pk, "description": ""})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_docs_page_states_the_limits_per_reseller_and_the_replay_rule(client, viewer, settings):
    settings.API_RATE_LIMIT_CREDIT, settings.API_RATE_LIMIT_DEFAULT = 5, 0
    page = _login(client, viewer).get(reverse("api_docs")).content.decode()
    credit = page.split('id="AllocateCustomerCredit"', 1)[1].split("</section>", 1)[0]
    assert "At most 5 requests per second from your account, all its API keys together." in credit
    assert "A signed request acts at most once" in credit
    other = page.split('id="DescribeCustomerUin"', 1)[1].split("</section>", 1)[0]
    assert "Not rate-limited." in other and "acts at most once" not in other
    for code in ["UnsupportedProtocol", "UnsupportedOperation", "RequestLimitExceeded"]:
        assert f"<code>{code}</code>" in page
    assert "per key" not in page


def test_docs_content_is_reused_only_for_the_same_language_address_and_limits(client, viewer, settings):
    """api.docs renders the reference once per language, address and rate limits: a change of any of
    them shows at once."""
    from django.utils.translation import gettext, override

    settings.API_RATE_LIMIT_CREDIT = 5
    page = _login(client, viewer).get(reverse("api_docs")).content.decode()
    assert "At most 5 requests per second" in page and "http://testserver" in page
    again = client.get(reverse("api_docs")).content.decode()
    assert again.split("<main", 1)[1].split("</main>", 1)[0] == page.split("<main", 1)[1].split("</main>", 1)[0]

    settings.API_RATE_LIMIT_CREDIT = 7
    page = client.get(reverse("api_docs")).content.decode()
    assert "At most 7 requests per second" in page and "At most 5 requests" not in page

    assert "http://localhost" in client.get(reverse("api_docs"), HTTP_HOST="localhost").content.decode()

    viewer.language = "zh-hans"
    viewer.save(update_fields=["language"])
    chinese = client.get(reverse("api_docs")).content.decode()
    with override("zh-hans"):
        calling = gettext("Calling the API")
    assert calling != "Calling the API" and calling in chinese and "Calling the API" not in chinese


def _section(page: str, action: str) -> str:
    return page.split(f'id="{action}"', 1)[1].split("</section>", 1)[0]


def test_docs_page_in_chinese_explains_in_chinese_and_keeps_names_and_codes_literal(client, viewer):
    """The reference's explanations (summaries, parameter descriptions, limits, response meanings,
    errors, example comments) follow the reader's language; action names, parameter names, error
    codes, type names and the SDK code do not."""
    english = _login(client, viewer).get(reverse("api_docs")).content.decode()
    viewer.language = "zh-hans"
    viewer.save(update_fields=["language"])
    chinese = client.get(reverse("api_docs")).content.decode()

    allocate_en, allocate_zh = _section(english, "AllocateCustomerCredit"), _section(chinese, "AllocateCustomerCredit")
    pairs = [
        # summary, a parameter's description, its limits, a response field's meaning, an error's description
        ("Allocate credit to a customer (a negative AddedCredit repossesses).", "为客户分配额度（AddedCredit 为负数时为回收）。"),
        ("<td>Shown in the allocation record.</td>", "<td>显示在分配记录中。</td>"),
        ("<td>at most 255 characters</td>", "<td>最多 255 个字符</td>"),
        ("<td>1–64 characters</td>", "<td>1–64 个字符</td>"),
        ("<td>Float (at most 2 decimals)</td>", "<td>Float（最多 2 位小数）</td>"),
        ("<td>The customer&#x27;s credit after the allocation.</td>", "<td>分配后客户的额度。</td>"),
        ("<td>AddedCredit exceeds the pool&#x27;s remaining credit</td>", "<td>AddedCredit 超过额度池的剩余额度</td>"),
        ("# ClientToken is not in the SDK&#x27;s model", "# SDK 的模型中没有 ClientToken"),
    ]
    for in_english, in_chinese in pairs:
        assert in_english in allocate_en and in_english not in allocate_zh, in_english
        assert in_chinese in allocate_zh and in_chinese not in allocate_en, in_chinese
    # The names a program sends or reads stay as they are.
    for literal in [">AllocateCustomerCredit</h2>", "<code>ClientUin</code>", "<code>AddedCredit</code>",
                    "<code>ClientToken</code>", "<code>FailedOperation.BalanceInsufficient</code>",
                    "<code>UnauthorizedOperation.UinNoAuth</code>", "<code>TotalCredit</code>",
                    "client.AllocateCustomerCredit(req)", "req.AddedCredit = 500.0"]:
        assert literal in allocate_en and literal in allocate_zh, literal
    usage_en, usage_zh = _section(english, "ReportCustomerUsage"), _section(chinese, "ReportCustomerUsage")
    assert "<code>Charges.N.ExternalId</code>" in usage_zh and "<td>1–1000 项</td>" in usage_zh
    assert "<td>1–1000 items</td>" in usage_en and "<td>Array of Object</td>" in usage_zh

    # The errors every action can answer: codes literal, descriptions translated.
    common_en = english.split('id="overview"', 1)[1].split("</section>", 1)[0]
    common_zh = chinese.split('id="overview"', 1)[1].split("</section>", 1)[0]
    for code, in_english, in_chinese in [
        ("AuthFailure.SecretIdNotFound", "the SecretId does not exist or the key is disabled", "SecretId 不存在或密钥已被禁用"),
        ("NoSuchVersion", "X-TC-Version is not 2022-09-28", "X-TC-Version 不是 2022-09-28"),
        ("InternalError", "an unexpected failure; quote the RequestId", "意外故障；请提供 RequestId"),
    ]:
        row = f"<td><code>{code}</code></td><td>{{}}</td>"
        assert row.format(in_english) in common_en and row.format(in_chinese) in common_zh

    # Every declared explanation is in the catalogue: none shows in English on the Chinese page.
    from django.utils.html import escape
    from django.utils.translation import override

    from api.actions import ACTIONS
    from api.docs import COMMON_ERRORS

    def explanations():
        texts = [when for _code, when in COMMON_ERRORS]
        for spec in ACTIONS.values():
            texts.append(spec.summary)
            texts += [meaning for _field, _type, meaning in spec.response]
            texts += [when for _code, when in spec.errors]
            params = list(spec.params)
            while params:
                param = params.pop()
                texts += [param.doc, param.limits]
                params += param.items
        return [escape(str(text)) for text in texts if str(text)]

    with override("en"):
        originals = explanations()
    with override("zh-hans"):
        translations = explanations()
    for original, translation in zip(originals, translations, strict=True):
        assert translation in chinese, translation
        if original != translation:
            assert original not in chinese, original
        assert original in english, original

    # Back in English, the cached English reference is served unchanged.
    viewer.language = "en"
    viewer.save(update_fields=["language"])
    again = client.get(reverse("api_docs")).content.decode()
    assert again.split("<main", 1)[1].split("</main>", 1)[0] == english.split("<main", 1)[1].split("</main>", 1)[0]
