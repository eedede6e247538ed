"""SMS. The backend comes from settings.SMS_BACKEND: console, file (development: one file per SMS
under SMS_FILE_PATH), locmem (tests: `outbox`), tencent (Tencent Cloud SMS `SendSms` through the
official SDK, templates and sign name from the SMS_TENCENT_* settings) or a dotted class path. A
backend's send() gets the phone number, the text, the template parameters and the alert's kind
(Tencent sends only approved templates, one per kind of notice: TEMPLATE_SETTINGS)."""

import json
import sys
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from core.money import format_money
from core.rules import used_percent

from . import Transport, TransportError

# The locmem backend's sent messages (tests read and clear it).
outbox: list[dict] = []
_outbox_lock = threading.Lock()


# Tencent Cloud SMS sends a template approved beforehand, its text fixed and only its parameters
# filled in, so each kind of notice has its own template (SmsTransport.params gives the parameters):
# a usage alert's template said of a status notice "used 0 %" and of a re-arm "reached".
TEMPLATE_SETTINGS = {
    "threshold": "SMS_TENCENT_TEMPLATE_ID",  # UIN, threshold %, used %, available USD
    "custom": "SMS_TENCENT_WARNING_TEMPLATE_ID",  # UIN, warning % of credit, available USD
    "credit": "SMS_TENCENT_WARNING_TEMPLATE_ID",  # the same, the customer's own notification
    "rearmed": "SMS_TENCENT_REARMED_TEMPLATE_ID",  # UIN, threshold %, used %
    "status": "SMS_TENCENT_STATUS_TEMPLATE_ID",  # UIN, the account status event, available USD
    "bound": "SMS_TENCENT_BOUND_TEMPLATE_ID",  # UIN
}


class SmsBackend:
    def send(self, *, phone: str, text: str, params: list[str], kind: str = "threshold") -> str:
        raise NotImplementedError


class ConsoleBackend(SmsBackend):
    def send(self, *, phone, text, params, kind="threshold"):
        sys.stdout.write(f"SMS to {phone}: {text}\n")
        sys.stdout.flush()
        return "console"


# The folders FileBackend made in this process: a mkdir per SMS cost milliseconds under load.
_made_folders: set[Path] = set()


class FileBackend(SmsBackend):
    def __init__(self, path: str | None = None):
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, *, phone, text, params, kind="threshold"):
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.sms"
        content = json.dumps({"to": phone, "text": text, "params": params, "kind": kind}) + "\n"
        try:
            try:
                if self.path not in _made_folders:
                    self.path.mkdir(parents=True, exist_ok=True)
                    _made_folders.add(self.path)
                self._write(name, content)
            except FileNotFoundError:  # the folder went since it was made: made again
                _made_folders.discard(self.path)
                self.path.mkdir(parents=True, exist_ok=True)
                self._write(name, content)
        except OSError as exc:
            raise TransportError(f"Cannot write the SMS file: {exc}") from exc
        return name

    def _write(self, name: str, content: str) -> None:
        partial = self.path / f".{name}.tmp"
        partial.write_text(content, encoding="utf-8")
        partial.rename(self.path / name)  # readers never see half a file


class LocmemBackend(SmsBackend):
    def send(self, *, phone, text, params, kind="threshold"):
        with _outbox_lock:
            outbox.append({"to": phone, "text": text, "params": params, "kind": kind})
            return f"locmem:{len(outbox)}"


# Tencent codes worth another try later; every other error code is permanent.
_TENCENT_TRANSIENT_PREFIXES = (
    "ClientNetworkError", "ServerNetworkError", "RequestLimitExceeded", "InternalError", "LimitExceeded",
    "FailedOperation.FailResolvePacket", "UnknownError",
)


def _tencent_transient(code: str) -> bool:
    return any(code == p or code.startswith(p + ".") or code.startswith(p) for p in _TENCENT_TRANSIENT_PREFIXES)


class TencentBackend(SmsBackend):
    def send(self, *, phone, text, params, kind="threshold"):
        from tencentcloud.common import credential
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import models, sms_client

        template = TEMPLATE_SETTINGS.get(kind)
        if template is None:
            raise TransportError(f"Tencent Cloud SMS has no template for {kind!r} notices.", permanent=True)
        missing = [
            name for name in ("SMS_TENCENT_SECRET_ID", "SMS_TENCENT_SECRET_KEY", "SMS_TENCENT_SDK_APP_ID", template,
                              "SMS_TENCENT_SIGN_NAME")
            if not getattr(settings, name)
        ]
        if missing:
            raise TransportError(
                f"Tencent Cloud SMS is not configured for {kind} notices: set " + ", ".join(missing), permanent=True,
            )
        endpoint = settings.SMS_TENCENT_ENDPOINT
        http = HttpProfile(
            protocol="http" if endpoint.startswith("http://") else "https",
            endpoint=endpoint.split("://", 1)[-1],
            reqTimeout=10,
        )
        client = sms_client.SmsClient(
            credential.Credential(settings.SMS_TENCENT_SECRET_ID, settings.SMS_TENCENT_SECRET_KEY),
            settings.SMS_TENCENT_REGION,
            ClientProfile(httpProfile=http),
        )
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [phone]
        request.SmsSdkAppId = settings.SMS_TENCENT_SDK_APP_ID
        request.TemplateId = getattr(settings, template)
        request.SignName = settings.SMS_TENCENT_SIGN_NAME
        request.TemplateParamSet = params
        try:
            response = client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or "UnknownError"
            raise TransportError(f"Tencent Cloud SMS {code}: {exc.get_message()}", permanent=not _tencent_transient(code)) from exc
        statuses = response.SendStatusSet or []
        if not statuses:
            raise TransportError("Tencent Cloud SMS returned no send status.")
        status = statuses[0]
        if status.Code != "Ok":
            raise TransportError(
                f"Tencent Cloud SMS {status.Code}: {status.Message}", permanent=not _tencent_transient(status.Code or "")
            )
        return status.SerialNo or response.RequestId or ""


BACKENDS = {"console": ConsoleBackend, "file": FileBackend, "locmem": LocmemBackend, "tencent": TencentBackend}


def get_backend(name: str | None = None) -> SmsBackend:
    name = name or settings.SMS_BACKEND
    cls = BACKENDS.get(name) or import_string(name)
    return cls()


class SmsTransport(Transport):
    channel = "sms"

    def __init__(self, backend: SmsBackend | None = None):
        self.backend = backend

    def params(self, delivery) -> list[str]:
        """The Tencent template's parameters for the alert's kind (TEMPLATE_SETTINGS): the customer's
        UIN first; percentages as numbers ("over 100" used with no credit); money as everywhere else;
        a status notice's event in the recipient's language."""
        alert = delivery.alert
        uin = str(alert.customer.uin)
        percent = used_percent(alert.used, alert.credit)
        used = "over 100" if percent is None else str(percent)
        if alert.kind in ("custom", "credit"):
            return [uin, str(alert.threshold), format_money(alert.available)]
        if alert.kind == "rearmed":
            return [uin, str(alert.threshold), used]
        if alert.kind == "status":
            with translation.override(self.language(delivery)):
                event = str(alert.status_event.get_kind_display())
            return [uin, event, format_money(alert.available)]
        if alert.kind == "bound":
            return [uin]
        return [uin, str(alert.threshold), used, format_money(alert.available)]

    def send(self, delivery) -> str:
        backend = self.backend or get_backend()
        return backend.send(
            phone=delivery.address,
            text=self.render("notifications/sms/alert.txt", delivery),
            params=self.params(delivery),
            kind=delivery.alert.kind,
        )
