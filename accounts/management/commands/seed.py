from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Seed demo data (users, instruments, history, tournaments). Safe to run again."

    def handle(self, *args, **options):
        self.stdout.write("Seeding demo data:")
        for dotted in settings.SEEDERS:
            import_string(dotted)(self.stdout)
        self.stdout.write(self.style.SUCCESS("Seed complete."))
