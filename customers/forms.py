from django import forms


class RemarkForm(forms.Form):
    remark = forms.CharField(
        label="Remark", required=False, max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 255}),
        help_text="Up to 255 characters; only your team sees it.",
    )
