"""`{% load i18n %}` (settings.TEMPLATES "libraries" maps the name here): Django's i18n tags and
filters, with `{% translate "literal text" %}` written once per language and kept on its node.

Django's translate tag makes a lazy text of its message on every render, looks it up in the
language's catalogues when the page writes it, and escapes it through another lazy wrapper: about
7 µs each, and the console's layout, tabs, bell and toolbars hold some thirty of them, all the same
literal texts on every page. A literal message without filters, `noop` or `context` has one
translation per language (and autoescape setting), so the node keeps what it wrote under those; any
other translate tag is Django's own. The kept texts are keyed as core.kept_texts says, so they are
not used once the languages, the locale paths or the apps change. tests/partnercenter/test_template_i18n.py compares the output with Django's tag."""

from django import template
from django.template.backends.django import DjangoTemplates as DjangoTemplatesBackend
from django.template.base import Variable, render_value_in_context
from django.templatetags import i18n as django_i18n
from django.utils.safestring import SafeData, mark_safe

from core.kept_texts import language_key

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


class KeptTranslateNode(django_i18n.TranslateNode):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        expression = self.filter_expression
        self._keeps = (isinstance(expression.var, Variable) and expression.var.lookups is None
                       and not expression.filters and not self.noop and self.message_context is None)
        self._kept: dict = {}

    def render(self, context):
        if not self._keeps:
            return super().render(context)
        key = (*language_key(), context.autoescape)
        value = self._kept.get(key)
        if value is None:
            # What Django's TranslateNode.render writes (without touching the node: threads share it).
            self.filter_expression.var.translate = True
            value = render_value_in_context(self.filter_expression.resolve(context), context)
            safe = isinstance(value, SafeData)
            value = value.replace("%%", "%")
            value = self._kept[key] = mark_safe(value) if safe else value
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value


def _translate(parser, token):
    node = django_i18n.do_translate(parser, token)
    return KeptTranslateNode(node.filter_expression, node.noop, node.asvar, node.message_context)


register.tag("translate", _translate)
register.tag("trans", _translate)


# The library a name in TEMPLATES' "libraries" stands for instead of an app's library of that name:
# Django's i18n, by this module.
REPLACED = {"i18n": (django_i18n.__name__, __name__)}


class DjangoTemplates(DjangoTemplatesBackend):
    """Django's template backend (settings.TEMPLATES), whose system check warns of two template tag
    libraries under one name (templates.W003) except for the one this module replaces on purpose:
    that warning was printed by every manage.py command. Any other shared name is still warned of."""

    def _check_for_template_tags_with_the_same_name(self):
        replaced = {
            f"{name!r} is used for multiple template tag modules: " + ", ".join(repr(path) for path in sorted(paths))
            for name, paths in REPLACED.items() if self.engine.libraries.get(name) == paths[1]
        }
        return [warning for warning in super()._check_for_template_tags_with_the_same_name()
                if warning.msg not in replaced]
