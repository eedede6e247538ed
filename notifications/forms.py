from functools import lru_cache

from django import forms
from django.utils.translation import get_language, gettext_lazy as _

from core.timezones import time_zone_choices, time_zone_names
from customers.models import Reseller, language_choices


class ConfirmForm(forms.Form):
    """A confirmation: no fields, the dialog says what the button does."""


class CustomWarningForm(forms.Form):
    percent = forms.IntegerField(
        # xgettext:no-python-format
        label=_("Warn when available credit is below (% of credit)"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("A whole number from 0 to 100. Leave empty to switch the custom warning off."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1", "min": "0", "max": "100"}),
    )


class ResellerAlertSettingsForm(forms.ModelForm):
    class Meta:
        model = Reseller
        fields = [
            "contact_email", "contact_phone", "contact_alert_email", "contact_alert_sms",
            "customer_alerts_enabled", "customer_alert_email", "customer_alert_sms", "customer_alert_inbox",
        ]
        labels = {"contact_email": _("Contact e-mail"), "contact_phone": _("Contact phone")}


@lru_cache(maxsize=16)
def _time_zone_select(renderer, name: str, value: str, attrs: tuple, language: str | None) -> str:
    return forms.Select(choices=time_zone_choices()).render(name, value, dict(attrs), renderer)


class TimeZoneSelect(forms.Select):
    """The time zone list as Django's Select writes it, kept per process for each selected zone (and
    name, attributes and language): writing its 600 options cost the Settings page several times
    its SQL on every request, and the list only changes with the zoneinfo database, which is read
    once per process too (core.timezones.time_zone_names). Its choices are always
    time_zone_choices(). A value that is not a zone (a refused post) is written as usual, so the
    kept copies stay few."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        if isinstance(value, str) and value in time_zone_names() and not self.allow_multiple_selected:
            try:
                key = tuple(attrs.items())  # in order: the attributes are written in it
                hash(key)
            except TypeError:  # an attribute value that cannot be a key: written as usual
                pass
            else:
                return _time_zone_select(renderer, name, value, key, get_language())
        return super().render(name, value, attrs, renderer)

    def use_required_attribute(self, initial):
        """Select's answer, which it takes from the first choice by iterating (and normalizing) all
        600 of them on every request: the first of time_zone_choices() is that choice."""
        if self.allow_multiple_selected:
            return super().use_required_attribute(initial)
        return forms.Widget.use_required_attribute(self, initial) and self._choice_has_empty_value(time_zone_choices()[0])


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=time_zone_choices, widget=TimeZoneSelect,
        help_text=_("Times in the console, the CSV exports and the API are shown in this zone, and each "
                    "customer's alerts count days in it."),
    )


class MemberChannelsForm(forms.Form):
    phone = forms.CharField(label=_("Phone for SMS"), required=False, max_length=32)
    alert_email = forms.BooleanField(label=_("E-mail"), required=False)
    alert_sms = forms.BooleanField(label=_("SMS"), required=False)
    alert_inbox = forms.BooleanField(label=_("Message Center"), required=False)


class CustomerChannelsForm(forms.Form):
    alert_email = forms.BooleanField(label=_("E-mail"), required=False)
    alert_sms = forms.BooleanField(label=_("SMS"), required=False)
    alert_inbox = forms.BooleanField(label=_("Message Center"), required=False)
    # Left out of a post, the customer's language stays as it is.
    language = forms.ChoiceField(
        label=_("Language of its alerts"), choices=language_choices, required=False
    )
