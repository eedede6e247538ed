"""The key of a text written once per language and kept (console.tables' translated column headers,
partnercenter.template_i18n's literal {% translate %} texts): the active language, and a generation
bumped whenever what a translation gives may change (the languages, the locale paths or the apps
change: Django's setting_changed, on which Django drops its own catalogues)."""

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import get_language

_generation = 0


@receiver(setting_changed)
def _translations_changed(*, setting, **kwargs):
    global _generation
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}:
        _generation += 1


def language_key() -> tuple:
    """What a kept translated text depends on: (active language, generation)."""
    return get_language(), _generation
