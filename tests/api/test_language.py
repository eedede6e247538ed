"""X-TC-Language (the SDK's ClientProfile(language=...)): zh-CN answers the messages in Simplified
Chinese, en-US (the SDK's default) in English; the codes never change."""

import pytest
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.intlpartnersmgt.v20220928 import intlpartnersmgt_client

from credits.models import AllocationRecord

from .conftest import TencentCloudSDKException, models, sdk_client, send, signed_by_sdk


def _client(endpoint, key, language):
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint, reqTimeout=30), language=language)
    return intlpartnersmgt_client.IntlpartnersmgtClient(credential.Credential(key.secret_id, key.secret_key), "", profile)


def _refusal(client, uin, amount):
    request = models.AllocateCustomerCreditRequest()
    request.ClientUin, request.AddedCredit = uin, amount
    with pytest.raises(TencentCloudSDKException) as info:
        client.AllocateCustomerCredit(request)
    return info.value.code, info.value.message


def test_zh_cn_answers_in_chinese_and_en_us_in_english(world, endpoint):
    customer = world.customers[0]
    chinese = _client(endpoint, world.operator_key, "zh-CN")
    english = _client(endpoint, world.operator_key, "en-US")
    code, message = _refusal(chinese, customer.uin, 0)
    assert code == "InvalidParameterValue.CreditAmountOutOfRange" and "金额不能为 0" in message
    # 0.0, not 0: a write's signature gets one answer and X-TC-Language is not signed, so the same
    # call in the same second would get the first (Chinese) answer again.
    code, message = _refusal(english, customer.uin, 0.0)
    assert code == "InvalidParameterValue.CreditAmountOutOfRange" and message.startswith("The amount cannot be zero")
    code, message = _refusal(chinese, world.other_customer.uin, 10)
    assert code.startswith("ResourceNotFound") or code.startswith("UnauthorizedOperation")
    assert "不存在或未绑定到您的账号" in message
    code, message = _refusal(chinese, customer.uin, 20_000)
    assert code == "FailedOperation.BalanceInsufficient" and "您的剩余客户额度为 10,000.00 USD" in message
    assert not AllocationRecord.objects.exists()


def test_endpoint_refusals_follow_the_language_too(world, endpoint):
    viewer = _client(endpoint, world.viewer_key, "zh-CN")
    code, message = _refusal(viewer, world.customers[0].uin, 10)
    assert code == "UnauthorizedOperation" and "只读成员" in message
    req = signed_by_sdk(_client(endpoint, world.operator_key, "zh-CN"), "NoSuchAction", {})
    answer = send(endpoint, req)
    assert answer["Error"]["Code"] == "InvalidAction" and "不存在接口 NoSuchAction" in answer["Error"]["Message"]


def test_the_browsers_language_does_not_change_the_api(world, endpoint):
    """No X-TC-Language means English, even from a client whose Accept-Language is Chinese."""
    req = signed_by_sdk(sdk_client(endpoint, world.operator_key.secret_id, world.operator_key.secret_key), "NoSuchAction", {})
    req.header.pop("X-TC-Language", None)
    req.header["Accept-Language"] = "zh-CN,zh;q=0.9"
    answer = send(endpoint, req)
    assert answer["Error"]["Message"].startswith("The action NoSuchAction does not exist")
