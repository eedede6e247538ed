"""Django's compilemessages limited to this project's catalogues (locale/): the installed packages'
own catalogues under .venv are theirs, not ours to rebuild."""

from django.core.management.commands import compilemessages

from .makemessages import IGNORED


class Command(compilemessages.Command):
    def handle(self, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *IGNORED]
        return super().handle(**options)
