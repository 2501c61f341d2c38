import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_create_operator_makes_a_staff_member_of_the_operators_group():
    call_command(
        "create_operator",
        "Ops@Example.com",
        "--password",
        "long-enough-pass-1",
        stdout=io.StringIO(),
    )
    user = User.objects.get(email="ops@example.com")
    assert user.is_staff
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [settings.OPERATORS_GROUP]
    assert user.check_password("long-enough-pass-1")


def test_create_operator_promotes_an_existing_trader_without_touching_the_password():
    trader = UserFactory(email="eve@example.com")
    old_hash = trader.password
    call_command("create_operator", "eve@example.com", stdout=io.StringIO())
    trader.refresh_from_db()
    assert trader.is_staff and not trader.is_superuser
    assert trader.password == old_hash


def test_create_operator_refuses_a_bad_email():
    with pytest.raises(CommandError):
        call_command("create_operator", "not-an-email", stdout=io.StringIO())


def test_seed_creates_the_demo_users_and_is_harmless_twice():
    out = io.StringIO()
    call_command("seed", stdout=out)
    call_command("seed", stdout=out)
    demo = User.objects.get(email=settings.DEMO_TRADER_EMAIL)
    operator = User.objects.get(email=settings.DEMO_OPERATOR_EMAIL)
    assert demo.check_password(settings.DEMO_TRADER_PASSWORD)
    assert operator.is_staff and not operator.is_superuser
    assert operator.check_password(settings.DEMO_OPERATOR_PASSWORD)
    assert User.objects.filter(email=settings.DEMO_TRADER_EMAIL).count() == 1
    assert settings.DEMO_TRADER_PASSWORD in out.getvalue()
