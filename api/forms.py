from django import forms

from .services import DESCRIPTION_MAX


class ApiKeyCreateForm(forms.Form):
    description = forms.CharField(
        max_length=DESCRIPTION_MAX,
        required=False,
        help_text="What the key is for, such as “billing sync”.",
    )
