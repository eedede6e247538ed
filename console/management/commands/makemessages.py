"""Django's makemessages with this project's defaults, so that `manage.py makemessages -l zh_Hans`
needs no flags (README, "Translations"): the virtualenv, tests, benchmarks and run-time folders are
not scanned, no source locations are written (a moved line does not change the catalogue) and strings no longer in
the code leave the catalogue."""

from django.core.management.commands import makemessages

IGNORED = [".venv/*", "venv/*", "tests/*", "bench/*", "var/*", "artifacts/*", "node_modules/*"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *IGNORED]
        options["no_location"] = True
        options["no_obsolete"] = True
        return super().handle(*args, **options)
