from django import forms
from django.utils.translation import gettext_lazy as _

from .services import DESCRIPTION_MAX


class ApiKeyCreateForm(forms.Form):
    description = forms.CharField(
        max_length=DESCRIPTION_MAX,
        required=False,
        help_text=_("What the key is for, such as “billing sync”."),
    )
