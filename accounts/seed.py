"""Demo users for the embedded run; `manage.py seed` calls this first."""

from django.conf import settings

from accounts.models import User
from accounts.services import operator_create


def seed_users(stdout) -> None:
    demo = User.objects.filter(email=settings.DEMO_TRADER_EMAIL).first()
    if demo is None:
        demo = User.objects.create_user(
            email=settings.DEMO_TRADER_EMAIL,
            password=settings.DEMO_TRADER_PASSWORD,
            display_name="demo-trader",
        )
        stdout.write(f"  demo trader    {demo.email} / {settings.DEMO_TRADER_PASSWORD}")
    else:
        stdout.write(f"  demo trader    {demo.email} / {settings.DEMO_TRADER_PASSWORD} (exists)")
    operator, created = operator_create(
        email=settings.DEMO_OPERATOR_EMAIL,
        password=settings.DEMO_OPERATOR_PASSWORD
        if not User.objects.filter(email=settings.DEMO_OPERATOR_EMAIL).exists()
        else None,
    )
    state = "" if created else " (exists)"
    stdout.write(f"  operator       {operator.email} / {settings.DEMO_OPERATOR_PASSWORD}{state}")
