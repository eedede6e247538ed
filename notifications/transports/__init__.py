"""One transport per channel (after healthchecks' hc/api/transports.py): `send(delivery)` hands the
message to the channel and returns the provider's reference, or raises TransportError."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from core.rules import used_percent_text


class TransportError(Exception):
    """The channel did not accept the message. permanent=True: retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent

    def __str__(self) -> str:
        return self.message


class Transport:
    channel = ""

    def send(self, delivery) -> str:
        raise NotImplementedError

    @staticmethod
    def language(delivery) -> str:
        """The recipient's language (DESIGN §9): the customer's for the customer, the member's for a
        member (its browser's choice is not known here: English until it picks one), the reseller's
        contact language for the contact address and phone."""
        if delivery.recipient_kind == "customer":
            language = delivery.alert.customer.language
        elif delivery.recipient_kind == "member" and delivery.member is not None:
            language = delivery.member.language
        else:
            language = delivery.alert.reseller.language
        return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE

    def context(self, delivery) -> dict:
        with translation.override(self.language(delivery)):
            return self._context(delivery)

    def _context(self, delivery) -> dict:
        alert = delivery.alert
        for_customer = delivery.recipient_kind == "customer"
        return {
            "delivery": delivery,
            "alert": alert,
            "customer": alert.customer,
            "reseller": alert.reseller,
            "for_customer": for_customer,
            "sentence": alert.sentence(for_customer=for_customer),
            "used_percent": used_percent_text(alert.used, alert.credit),
            "console_url": settings.CONSOLE_BASE_URL.rstrip("/"),
        }

    def render(self, template: str, delivery, context: dict | None = None) -> str:
        """`context`: the delivery's context when the caller already built it (an e-mail renders
        its subject, text and HTML from one)."""
        with translation.override(self.language(delivery)):
            return render_to_string(template, context or self._context(delivery)).strip()


def transport_for(channel: str, **kwargs) -> Transport:
    from .email import EmailTransport
    from .inbox import InboxTransport
    from .sms import SmsTransport

    transports = {"email": EmailTransport, "sms": SmsTransport, "inbox": InboxTransport}
    try:
        return transports[channel](**kwargs)
    except KeyError:
        raise TransportError(f"Unknown channel {channel!r}.", permanent=True) from None
