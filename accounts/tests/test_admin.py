import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    call_command("create_operator", "ops@example.com", "--password", "long-enough-pass-1")
    return User.objects.get(email="ops@example.com")


def test_an_operator_can_open_the_admin_but_not_user_admin(client, operator):
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403


def test_a_trader_cannot_open_the_admin(client):
    client.force_login(UserFactory())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
