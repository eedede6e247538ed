"""The form renderer (settings.FORM_RENDERER): Django's, with its commonest widget templates written in Python.

Django renders every widget through the template engine: a text box is two templates (text.html includes
input.html) and a third for its attributes (attrs.html), a select one more per option. A list page's filter
toolbar (four fields, a dozen options) cost more through the engine than the whole page's SQL (bench/console.py).
This renderer writes the same bytes as those templates for the widgets that use them unchanged: input.html and the
one-line templates that only include it (text, number, search, date, ...), select.html with its options,
select_option.html and textarea.html. At start it compares the source of each template the engine would load
with the Django template it reproduces; a template that differs (an app or a Django release overriding it) goes
through the engine as before, and so does every other template (forms, fields, radios, the admin's widgets).
tests/partnercenter/test_form_renderer.py checks the output against the engine's, widget by widget."""

import html
from functools import cached_property
from pathlib import Path

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, SafeString, mark_safe

_WIDGETS = "django/forms/widgets/"
_INPUT = _WIDGETS + "input.html"
# The templates reproduced below, as Django 5.2 writes them (compared at start with what the engine loads).
_SOURCES = {
    _WIDGETS + "attrs.html": (
        '{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}'
        "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}{% endfor %}"
    ),
    _INPUT: (
        '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %} '
        "value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}{% include \"django/forms/widgets/attrs.html\" %}>\n"
    ),
    _WIDGETS + "select.html": (
        '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
        "{% for group_name, group_choices, group_index in widget.optgroups %}{% if group_name %}\n"
        '  <optgroup label="{{ group_name }}">{% endif %}{% for option in group_choices %}\n'
        "  {% include option.template_name with widget=option %}{% endfor %}{% if group_name %}\n"
        "  </optgroup>{% endif %}{% endfor %}\n</select>\n"
    ),
    _WIDGETS + "select_option.html": (
        "<option value=\"{{ widget.value|stringformat:'s' }}\"{% include \"django/forms/widgets/attrs.html\" %}>"
        "{{ widget.label }}</option>\n"
    ),
    _WIDGETS + "textarea.html": (
        '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n'
        "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n"
    ),
}
# Widget templates that are only `{% include "django/forms/widgets/input.html" %}`.
_INPUT_ALIASES = [_WIDGETS + f"{name}.html" for name in (
    "text", "number", "search", "email", "password", "hidden", "url", "tel", "date", "datetime", "time", "color",
    "checkbox",
)]
_INCLUDES_INPUT = '{% include "django/forms/widgets/input.html" %}\n'


class _Plain:
    """What render_value_in_context reads of a template Context: autoescape on, the active settings for the rest."""

    autoescape = True
    use_l10n = None
    use_tz = None


_PLAIN = _Plain()


def _out(value) -> str:
    """`{{ value }}` in an autoescaping template: localized, made text, escaped unless safe. Plain text
    (what most names, types and attribute values are) is only escaped, as Django's escape does it
    (html.escape), without the lazy-text checks and localization that leave it as it is."""
    kind = type(value)
    if kind is str:
        return html.escape(value)
    if kind is SafeString:
        return value
    return render_value_in_context(value, _PLAIN)


def _string(value) -> str:
    """`{{ value|stringformat:'s' }}`."""
    # The filter's "%s" % value, which for anything but a tuple (made text first there) is str(value).
    text = str(value)
    return _out(mark_safe(text) if isinstance(value, SafeData) else text)


def _attrs(widget) -> str | None:
    attrs = widget["attrs"]
    if "items" in attrs:  # the template's `widget.attrs.items` would read that key, not the method
        return None
    parts = []
    for name, value in attrs.items():
        if callable(value):  # the template would call it
            return None
        if value is not False:
            parts.append(f" {_out(name)}" if value is True else f' {_out(name)}="{_string(value)}"')
    return "".join(parts)


class FormRenderer(DjangoTemplates):
    @cached_property
    def _fast(self) -> dict:
        """The reproduced templates the engine would load unchanged, by name."""
        django_widgets = Path(__import__("django.forms", fromlist=["forms"]).__file__).parent / "templates"

        def loads_django(name: str, source: str) -> bool:
            template = self.get_template(name).template
            return template.source == source and Path(template.origin.name).is_relative_to(django_widgets)

        fast = {name: writer for name, writer in (
            (_INPUT, self._input), (_WIDGETS + "select.html", self._select),
            (_WIDGETS + "select_option.html", self._option), (_WIDGETS + "textarea.html", self._textarea),
        ) if loads_django(name, _SOURCES[name])}
        if not loads_django(_WIDGETS + "attrs.html", _SOURCES[_WIDGETS + "attrs.html"]):
            return {}
        if _INPUT in fast:
            fast.update((name, self._input) for name in _INPUT_ALIASES if loads_django(name, _INCLUDES_INPUT))
        return fast

    def render(self, template_name, context, request=None):
        writer = self._fast.get(template_name)
        widget = context.get("widget") if writer is not None and isinstance(context, dict) else None
        if isinstance(widget, dict) and not any(callable(widget.get(key)) for key in ("value", "label", "name", "type")):
            html = writer(widget)
            if html is not None:
                return html.strip()
        return super().render(template_name, context, request=request)

    def _input(self, widget) -> str | None:
        attrs = _attrs(widget)
        if attrs is None:
            return None
        value = widget["value"]
        shown = "" if value is None else f' value="{_string(value)}"'
        return f'<input type="{_out(widget["type"])}" name="{_out(widget["name"])}"{shown}{attrs}>'

    def _option(self, option) -> str | None:
        attrs = _attrs(option)
        if attrs is None:
            return None
        return f'<option value="{_string(option["value"])}"{attrs}>{_out(option["label"])}</option>'

    def _select(self, widget) -> str | None:
        attrs = _attrs(widget)
        if attrs is None:
            return None
        parts = [f'<select name="{_out(widget["name"])}"{attrs}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_out(group_name)}">')
            for option in group_choices:
                if not isinstance(option, dict) or option.get("template_name") != _WIDGETS + "select_option.html":
                    return None
                html = self._option(option)
                if html is None:
                    return None
                parts.append(f"\n  {html}\n")
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)

    def _textarea(self, widget) -> str | None:
        attrs = _attrs(widget)
        if attrs is None:
            return None
        value = widget["value"]
        return f'<textarea name="{_out(widget["name"])}"{attrs}>\n{_out(value) if value else ""}</textarea>'
