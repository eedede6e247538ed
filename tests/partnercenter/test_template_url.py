"""{% url %} with its answers kept per process (partnercenter/template_url.py) writes what Django's
{% url %} writes, raises what it raises, and keys its cache on everything reverse() reads."""

import pytest
from django.template import Context, Engine, engines
from django.urls import NoReverseMatch, set_script_prefix

from partnercenter import template_url

DJANGO = Engine()  # Django's own {% url %}: no builtins of ours


def both(source: str, **context) -> tuple[str, str]:
    ours = engines["django"].from_string(source).render(context)
    theirs = DJANGO.from_string(source).render(Context(context))
    return ours, theirs


@pytest.mark.parametrize("source", [
    "{% url 'customers:list' %}",
    "{% url 'customers:remark' 612345678901 %}",
    "{% url 'customers:remark' uin %}",
    "{% url 'customers:remark' uin=uin %}",
    "{% url view uin %}",
    "{% url 'logout' %}?next={% url 'customers:list' %}",
    "{% url 'missing-view' as link %}[{{ link }}]",
    "{% url 'customers:remark' uin as link %}<a href='{{ link }}'>",
    "{% url 'admin:index' %}",
])
def test_writes_what_djangos_url_writes(source):
    ours, theirs = both(source, uin=612345678902, view="customers:remark")
    assert ours == theirs and ours


def test_a_missing_view_is_refused_as_django_refuses_it():
    with pytest.raises(NoReverseMatch):
        engines["django"].from_string("{% url 'missing-view' %}").render({})
    with pytest.raises(NoReverseMatch):
        engines["django"].from_string("{% url 'customers:remark' 'not-a-uin' %}").render({})


def test_the_script_prefix_is_part_of_the_key():
    template = engines["django"].from_string("{% url 'customers:list' %}")
    assert template.render({}) == "/customers/"
    set_script_prefix("/partner/")
    try:
        assert template.render({}) == "/partner/customers/"
    finally:
        set_script_prefix("/")
    assert template.render({}) == "/customers/"


def test_answers_are_kept_and_arguments_that_are_not_text_or_numbers_are_not():
    class Uin:
        def __str__(self):
            return "612345678903"

    template_url._reversed.cache_clear()
    template = engines["django"].from_string("{% url 'customers:remark' uin %}")
    for _ in range(3):
        assert template.render({"uin": 612345678904}) == "/customers/612345678904/remark/"
    assert (template_url._reversed.cache_info().hits, template_url._reversed.cache_info().misses) == (2, 1)
    assert template.render({"uin": Uin()}) == "/customers/612345678903/remark/"
    for engine_template, context in ((template, {"uin": True}),
                                     (DJANGO.from_string("{% url 'customers:remark' uin %}"), Context({"uin": True}))):
        with pytest.raises(NoReverseMatch):  # True is not 1 here, as in Django's
            engine_template.render(context)
    assert template_url._reversed.cache_info().misses == 1  # neither went through the cache
