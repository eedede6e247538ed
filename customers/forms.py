from django import forms
from django.utils.translation import gettext_lazy as _


class RemarkForm(forms.Form):
    remark = forms.CharField(
        label=_("Remark"), required=False, max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 255}),
        help_text=_("Up to 255 characters; only your team sees it."),
    )


class InviteForm(forms.Form):
    email = forms.CharField(label=_("Customer's e-mail address"),
                             help_text=_("The invitation link is e-mailed here; it works once and expires."))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for rejection"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Required, up to 500 characters; e-mailed to the applicant."))
