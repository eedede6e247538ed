from django import forms

from customers.models import Reseller


class CustomWarningForm(forms.Form):
    percent = forms.IntegerField(
        label="Warn when available credit is below (% of credit)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="A whole number from 0 to 100. Leave empty to switch the custom warning off.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1", "min": "0", "max": "100"}),
    )


class ResellerAlertSettingsForm(forms.ModelForm):
    class Meta:
        model = Reseller
        fields = [
            "contact_email", "contact_phone", "contact_alert_email", "contact_alert_sms",
            "customer_alerts_enabled", "customer_alert_email", "customer_alert_sms", "customer_alert_inbox",
        ]
        labels = {"contact_email": "Contact e-mail", "contact_phone": "Contact phone"}


class MemberChannelsForm(forms.Form):
    phone = forms.CharField(label="Phone for SMS", required=False, max_length=32)
    alert_email = forms.BooleanField(label="E-mail", required=False)
    alert_sms = forms.BooleanField(label="SMS", required=False)
    alert_inbox = forms.BooleanField(label="Message Center", required=False)


class CustomerChannelsForm(forms.Form):
    alert_email = forms.BooleanField(label="E-mail", required=False)
    alert_sms = forms.BooleanField(label="SMS", required=False)
    alert_inbox = forms.BooleanField(label="Message Center", required=False)
