import uuid

from django import forms
from django.utils.translation import gettext, gettext_lazy as _


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class IdempotencyKeyMixin:
    """The idempotency key is a hidden field the server fills in, so a missing or broken one means the
    form was altered or cut short. A hidden field shows no error of its own: the refusal goes on top
    of the form, and the form gets a fresh key for the next Confirm."""

    def clean(self):
        cleaned = super().clean()
        if self.has_error("idempotency_key"):
            self.add_error(None, gettext("This form arrived incomplete or altered; check it and confirm again."))
            self.data = self.data.copy()
            self.data["idempotency_key"] = new_idempotency_key()
        return cleaned


class AllocateForm(IdempotencyKeyMixin, forms.Form):
    """Amounts are parsed by core.money.parse_amount inside the service, which names the rule an
    input breaks (too many decimals, zero, over the per-operation limit); the form only carries them."""

    amount = forms.CharField(
        label=_("Allocated amount (USD)"), max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "class": "num"}),
        help_text=_(
            "A positive amount allocates from your pool; a negative amount repossesses, after you confirm it."
        ),
    )
    remark = forms.CharField(
        label=_("Remark"), required=False, max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 255}),
    )
    # Set by the repossession's confirmation step: without it a negative amount is only checked and
    # stated, never moved.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # Made when the form is rendered: a double click or a resubmitted page sends the same key, and
    # credit_allocate answers a repeated key with the first record instead of allocating again.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class PoolApplicationForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount (USD)"), max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "class": "num"}),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000}),
        help_text=_("Your channel manager reads this when approving the application."),
    )


class RepaymentForm(IdempotencyKeyMixin, forms.Form):
    amount = forms.CharField(
        label=_("Amount repaid (USD)"), max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "class": "num"}),
        help_text=_("What the customer paid back, at most what it has used. It returns to its available credit."),
    )
    remark = forms.CharField(
        label=_("Remark"), required=False, max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 255}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
