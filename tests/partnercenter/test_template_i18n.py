"""`{% load i18n %}` (partnercenter/template_i18n.py) writes what Django's i18n tags write, in
every language, each render, with a literal {% translate %} text kept per language."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.template import Context, Engine, engines
from django.test import override_settings
from django.utils import translation

from partnercenter.template_i18n import DjangoTemplates, KeptTranslateNode

DJANGO = Engine(libraries={"i18n": "django.templatetags.i18n"})  # Django's own i18n library

SOURCES = [
    '{% load i18n %}{% translate "My Customers" %}',
    "{% load i18n %}{% translate 'Search' %}|{% trans \"Reset\" %}",
    '{% load i18n %}{% translate "Search" as label %}[{{ label }}]{% translate "Reset" as label %}[{{ label }}]',
    '{% load i18n %}{% translate "100%% <b>&</b>" %}',
    '{% load i18n %}{% translate "Export CSV" noop %}',
    '{% load i18n %}{% translate "May" context "month name" %}',
    '{% load i18n %}{% translate "Search"|upper %}',
    "{% load i18n %}{% translate word %}",
    '{% load i18n %}{% autoescape off %}{% translate "<b>Search</b>" %}{% endautoescape %}{% translate "<b>Search</b>" %}',
    '{% load i18n %}{% blocktranslate with name=who %}Customers bound to {{ name }}.{% endblocktranslate %}',
    "{% load i18n %}{% get_current_language as code %}{{ code }} {{ 'zh-hans'|language_name_local }}",
]


@pytest.mark.parametrize("source", SOURCES)
def test_writes_what_djangos_i18n_writes_in_each_language(source):
    ours = engines["django"].from_string(source)
    theirs = DJANGO.from_string(source)
    for language in ("en", "zh-hans", "en", "zh-hans"):  # twice: the second time from what was kept
        with translation.override(language):
            context = {"word": "Search", "who": "<Acme>"}
            written = ours.render(context)
            assert written == theirs.render(Context(context))


def test_chinese_and_english_differ_and_only_literal_texts_are_kept():
    template = engines["django"].from_string(SOURCES[0] + '{% translate word %}{% translate "Reset"|upper %}')
    with translation.override("en"):
        english = template.render({"word": "Search"})
    with translation.override("zh-hans"):
        chinese = template.render({"word": "Search"})
    assert english.startswith("My Customers") and not chinese.startswith("My Customers")
    nodes = [node for node in template.template.nodelist if isinstance(node, KeptTranslateNode)]
    assert [node._keeps for node in nodes] == [True, False, False]


def test_kept_texts_are_dropped_when_the_languages_change():
    template = engines["django"].from_string('{% load i18n %}{% translate "Search" %}')
    with translation.override("zh-hans"):
        before = template.render({})
        with override_settings(LANGUAGES=[("en", "English")], LANGUAGE_CODE="en"):
            # zh-hans is no longer a language of the site: Django writes the English text.
            assert template.render({}) == DJANGO.from_string('{% load i18n %}{% translate "Search" %}').render(Context())
            assert template.render({}) == "Search" != before
        # Django dropped its catalogues and the active language with the settings: as it writes now.
        assert template.render({}) == DJANGO.from_string('{% load i18n %}{% translate "Search" %}').render(Context())
    with translation.override("zh-hans"):
        assert template.render({}) == before


def test_the_system_check_is_clean_as_a_user_runs_it():
    # The replaced "i18n" had made every manage.py command print templates.W003.
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout, done.stdout + done.stderr
    assert "W003" not in done.stdout + done.stderr


def test_another_name_two_libraries_share_is_still_warned_of():
    backend = DjangoTemplates({"NAME": "check", "DIRS": [], "APP_DIRS": True, "OPTIONS": {
        "libraries": {"i18n": "partnercenter.template_i18n", "static": "partnercenter.template_url"}}})
    warnings = [warning for warning in backend.check() if warning.id == "templates.W003"]
    assert [warning.msg.split(" ")[0] for warning in warnings] == ["'static'"]
