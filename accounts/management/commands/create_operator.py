from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.services import operator_create


class Command(BaseCommand):
    help = "Make EMAIL a tournament operator: staff (not superuser) in the operators group."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--password", help="set this password (new users get none otherwise)")

    def handle(self, *args, email: str, password: str | None, **options):
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"{email!r} is not a valid email address") from exc
        user, created = operator_create(email=email, password=password)
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} operator {user.email}"))
        if created and not password:
            self.stdout.write("No password set: use `manage.py changepassword` to set one.")
