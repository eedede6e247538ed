"""{% url %} with its answers kept per process (settings.TEMPLATES "builtins", so every template's
{% url %} is this one). Django's reverse() matches the view name against the URLconf's patterns on
every call, about 45 µs: a console page with fourteen {% url %} tags spent 0.6 ms there writing the
same addresses again. The address depends only on what reverse() is given (view name, arguments,
current app) and on the URLconf and script prefix, all of which are the cache's key; arguments
other than text and whole numbers (model instances, lazy text, booleans) go to reverse() every
time, as their text may change. Output, errors and "as var" are Django's
(tests/partnercenter/test_template_url.py). console.tables.RowLinks still writes a table's rows:
a string replacement per row, cheaper than a lookup here."""

from functools import lru_cache

from django import template
from django.template.defaulttags import URLNode, url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()

# Per-customer addresses (a remark link per row) come and go; the layout's stay.
CACHE_SIZE = 4096


@lru_cache(maxsize=CACHE_SIZE)
def _reversed(view_name: str, args: tuple, kwargs: tuple, current_app, prefix: str, urlconf) -> str:
    # prefix and urlconf are reverse()'s other inputs (thread-local): part of the key, not used here.
    return reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)


def _plain(value) -> bool:
    # Text (a template's literal is a SafeString) or a whole number; not a bool, equal to 1 or 0 as a key.
    return isinstance(value, (str, int)) and not isinstance(value, bool)


class CachedURLNode(URLNode):
    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            if _plain(view_name) and all(map(_plain, args)) and all(map(_plain, kwargs.values())) and (
                current_app is None or _plain(current_app)
            ):
                url = _reversed(view_name, tuple(args), tuple(sorted(kwargs.items())), current_app,
                                get_script_prefix(), get_urlconf())
            else:
                url = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
