from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.services import api_key_create
from core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API key for a reseller member and print its SecretId and SecretKey (shown only now)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username of a reseller member")
        parser.add_argument("--description", default="", help="what the key is for")

    def handle(self, *args, user, description, **options):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"There is no user {user!r}.")
        try:
            key, secret_key = api_key_create(user=account, description=description)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"SecretId:  {key.secret_id}")
        self.stdout.write(f"SecretKey: {secret_key}")
        self.stdout.write("Store the SecretKey now: it cannot be shown again.")
