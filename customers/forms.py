import hashlib
import math
import time

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError


class SignInThrottle:
    """At most LIMIT failed sign-ins for one username from one address within WINDOW seconds; the
    LIMIT-th failure locks that pair for WINDOW seconds. Kept in the cache (Redis in production), so
    every web process sees the same count."""

    LIMIT = 5
    WINDOW = 15 * 60

    def __init__(self, username: str, address: str):
        digest = hashlib.sha256(f"{username.strip().lower()}\0{address}".encode()).hexdigest()[:32]
        self.failures_key = f"signin:failures:{digest}"
        self.lock_key = f"signin:locked-until:{digest}"

    def seconds_left(self) -> int:
        until = cache.get(self.lock_key)
        return max(0, math.ceil(until - time.time())) if until else 0

    def failed(self) -> None:
        now = time.time()
        recent = [t for t in cache.get(self.failures_key, []) if t > now - self.WINDOW]
        recent.append(now)
        if len(recent) >= self.LIMIT:
            cache.set(self.lock_key, now + self.WINDOW, self.WINDOW)
            cache.delete(self.failures_key)
        else:
            cache.set(self.failures_key, recent, self.WINDOW)

    def succeeded(self) -> None:
        cache.delete(self.failures_key)


def client_address(request) -> str:
    # REMOTE_ADDR only: a client can write any X-Forwarded-For it likes.
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Try again in %(minutes)s minute%(plural)s.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        throttle = SignInThrottle(username, client_address(self.request))
        if throttle.seconds_left():
            # Refused before the password is even checked, so guessing on stays pointless.
            raise self.throttled_error(throttle)
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if getattr(error, "code", None) == "invalid_login":
                throttle.failed()
                if throttle.seconds_left():
                    raise self.throttled_error(throttle) from error
            raise
        throttle.succeeded()
        return cleaned

    def throttled_error(self, throttle: SignInThrottle) -> ValidationError:
        minutes = max(1, math.ceil(throttle.seconds_left() / 60))
        return ValidationError(
            self.error_messages["throttled"], code="throttled",
            params={"minutes": minutes, "plural": "" if minutes == 1 else "s"},
        )


class RemarkForm(forms.Form):
    remark = forms.CharField(
        label="Remark", required=False, max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 255}),
        help_text="Up to 255 characters; only your team sees it.",
    )
