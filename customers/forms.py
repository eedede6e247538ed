from django import forms
from django.utils.translation import gettext_lazy as _


class RemarkForm(forms.Form):
    remark = forms.CharField(
        label=_("Remark"), required=False, max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 255}),
        help_text=_("Up to 255 characters; only your team sees it."),
    )
