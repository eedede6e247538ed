"""partnercenter.form_renderer writes what Django's widget templates write, byte for byte, and leaves to the
template engine every template it does not reproduce."""

from datetime import date

import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from partnercenter.form_renderer import FormRenderer

CHOICES = [("", "All <any>"), ("a", "A & B"), (1, gettext_lazy("Frozen")), ("x\"y", mark_safe("<b>safe</b>")), (1000, 1000)]
GROUPED = [("", "None"), ("Group <1>", [("g1", "One"), ("g2", "Two")]), (gettext_lazy("Usage"), [(75, "75 %")])]
ATTRS = [
    {},
    {"placeholder": "UIN, name, remark or email", "autocomplete": "off", "type": "search"},
    {"required": True, "disabled": False, "min": 0, "max": 3650, "step": 1, "data-x": None, "data-y": ""},
    {"aria-label": gettext_lazy("Search"), "class": 'a "quoted" <class>', "data-safe": mark_safe("<i>")},
    {"value": "override", "id": "id_custom", "form": "customer-filters"},
]
VALUES = [None, "", "plain", "a <b> & \"c\"", mark_safe("<safe>"), 0, 12345, 1234.5, ("t", 1), date(2026, 11, 30),
          gettext_lazy("Search"), ["a", 1]]
WIDGETS = [
    forms.TextInput, forms.NumberInput, forms.EmailInput, forms.URLInput, forms.PasswordInput, forms.HiddenInput,
    forms.SearchInput, forms.TelInput, forms.ColorInput, forms.Textarea, forms.CheckboxInput,
    lambda attrs: forms.DateInput(attrs=attrs, format="%Y-%m-%d"), forms.DateTimeInput, forms.TimeInput,
    lambda attrs: forms.Select(attrs=attrs, choices=CHOICES), lambda attrs: forms.Select(attrs=attrs, choices=GROUPED),
    lambda attrs: forms.SelectMultiple(attrs=attrs, choices=CHOICES), forms.NullBooleanSelect,
    # Not reproduced: through the engine, unchanged.
    lambda attrs: forms.RadioSelect(attrs=attrs, choices=CHOICES),
    lambda attrs: forms.CheckboxSelectMultiple(attrs=attrs, choices=GROUPED),
    forms.ClearableFileInput, forms.SplitDateTimeWidget, forms.SelectDateWidget, forms.MultipleHiddenInput,
]


def test_it_is_the_form_renderer():
    assert settings.FORM_RENDERER == "partnercenter.form_renderer.FormRenderer"
    assert isinstance(get_default_renderer(), FormRenderer)


def test_it_reproduces_the_django_templates_it_claims():
    fast = FormRenderer()._fast
    assert {"django/forms/widgets/input.html", "django/forms/widgets/text.html", "django/forms/widgets/select.html",
            "django/forms/widgets/select_option.html", "django/forms/widgets/textarea.html"} <= set(fast)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("make", WIDGETS)
def test_every_widget_renders_as_through_the_template_engine(make, language):
    django_renderer, ours = DjangoTemplates(), FormRenderer()
    with override(language):
        for attrs in ATTRS:
            widget = make(attrs=dict(attrs))
            for value in VALUES:
                try:
                    expected = widget.render("field", value, attrs={"id": "id_field"}, renderer=django_renderer)
                except (TypeError, ValueError, AttributeError):
                    continue  # a value this widget cannot take at all
                assert widget.render("field", value, attrs={"id": "id_field"}, renderer=ours) == expected, (attrs, value)


def test_a_template_it_does_not_reproduce_goes_through_the_engine():
    context = {"widget": {"name": "f", "value": "v", "type": "text", "attrs": {"items": "1"}, "template_name": ""}}
    # `widget.attrs.items` reads the "items" key in a template (which then fails to unpack it): left to the
    # engine, which does exactly that.
    for renderer in (DjangoTemplates(), FormRenderer()):
        with pytest.raises(ValueError, match="unpack"):
            renderer.render("django/forms/widgets/text.html", context)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_console_filter_forms_render_as_before(language):
    from customers.filters import CustomerFilter
    from customers.models import Customer

    with override(language):
        for data in (None, {"q": "0421 <b>", "status": "frozen", "band": "90", "runs_out": "7"}, {"runs_out": "x<"}):
            form = CustomerFilter(data, queryset=Customer.objects.none()).form
            form.is_valid()
            for field in form:
                form.renderer = DjangoTemplates()
                expected = field.as_widget()
                form.renderer = FormRenderer()
                assert field.as_widget() == expected
