from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy as _

from customers.models import Customer

from .access import customer_login_of


class PortalSignInForm(AuthenticationForm):
    """The portal's sign-in: only a customer's login may sign in here (a reseller member is told
    where its console is). Throttled by django-axes like the console's."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if customer_login_of(user) is None:
            raise ValidationError(
                gettext("This is the customer portal. Reseller staff sign in to the console at /login/."),
                code="not_customer",
            )


class RegistrationForm(forms.Form):
    """What the invitee enters; customers.services.application_register checks and refuses."""

    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("Your name or your company's, as it should appear on bills."))
    email = forms.CharField(label=_("E-mail address"))
    phone = forms.CharField(label=_("Mobile number"), max_length=32, help_text=_("With the country code, such as +65 8000 0000."))
    identity_type = forms.ChoiceField(label=_("Account type"), choices=Customer.IdentityType.choices,
                                      initial=Customer.IdentityType.ENTERPRISE, widget=forms.RadioSelect)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               strip=False)



class NotificationSettingsForm(forms.Form):
    """The customer's own switches and credit notification; notifications.services checks the range."""

    wants_email = forms.BooleanField(label=_("E-mail"), required=False)
    wants_sms = forms.BooleanField(label=_("SMS"), required=False)
    wants_inbox = forms.BooleanField(label=_("Message Center"), required=False)
    credit_notification_percent = forms.IntegerField(
        label=_("Credit notification (percent of credit available)"), required=False,
        help_text=_("A whole number from 0 to 100: when your available credit drops below this share of your "
                    "credit, you alone are told, at most once a day. Leave empty for none."),
    )


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset by e-mail, for customer logins only: a reseller member's address gets nothing
    here (the answer is the same, so it tells nobody which addresses exist)."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if customer_login_of(user) is not None)
