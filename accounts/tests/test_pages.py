import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_the_landing_page_explains_the_platform_to_a_newcomer(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Practise trading with virtual money" in html
    assert reverse("accounts:signup") in html
    assert 'lang="en"' in html


def test_signing_up_creates_the_user_and_logs_them_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {"email": "Alice@Example.com", "password": TEST_PASSWORD, "display_name": "alice"},
    )
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "alice@example.com"
    assert user.display_name == "alice"
    assert user.password.startswith("argon2")
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_signup_shows_field_errors_and_creates_nothing(client):
    UserFactory(email="alice@example.com", display_name="alice")
    response = client.post(
        reverse("accounts:signup"),
        {"email": "ALICE@example.com", "password": "123", "display_name": "Alice"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "An account with this email already exists." in html
    assert "That display name is taken." in html
    assert "This password is too short" in html
    assert User.objects.count() == 1


def test_login_with_the_email_in_any_case_and_logout(client):
    UserFactory(email="bob@example.com")
    response = client.post(
        reverse("accounts:login"), {"email": "BOB@example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_logout_needs_a_post(client):
    assert client.get(reverse("accounts:logout")).status_code == 405


def test_unknown_email_and_wrong_password_read_the_same(client):
    UserFactory(email="bob@example.com")
    wrong = client.post(reverse("accounts:login"), {"email": "bob@example.com", "password": "x"})
    unknown = client.post(reverse("accounts:login"), {"email": "no@example.com", "password": "x"})
    assert wrong.status_code == unknown.status_code == 400
    assert "Invalid email or password." in wrong.content.decode()
    assert "Invalid email or password." in unknown.content.decode()


def test_five_failed_logins_lock_the_account_out_even_with_the_right_password(client):
    UserFactory(email="bob@example.com")
    for _ in range(5):
        client.post(reverse("accounts:login"), {"email": "bob@example.com", "password": "nope"})
    response = client.post(
        reverse("accounts:login"), {"email": "bob@example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_forms_refuse_posts_without_a_csrf_token():
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(
        reverse("accounts:signup"), {"email": "c@example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 403
    assert not User.objects.exists()


def test_profile_changes_the_display_name(client):
    alice = UserFactory(display_name="alice")
    UserFactory(display_name="bob")
    client.force_login(alice)
    taken = client.post(reverse("accounts:profile"), {"form": "profile", "display_name": "BOB"})
    assert taken.status_code == 400
    assert "That display name is taken." in taken.content.decode()
    ok = client.post(reverse("accounts:profile"), {"form": "profile", "display_name": "alice-2"})
    assert ok.status_code == 302
    alice.refresh_from_db()
    assert alice.display_name == "alice-2"


def test_profile_changes_the_password_and_keeps_the_session(client):
    alice = UserFactory()
    client.force_login(alice)
    response = client.post(
        reverse("accounts:profile"),
        {
            "form": "password",
            "old_password": TEST_PASSWORD,
            "new_password1": "a-much-better-secret-77",
            "new_password2": "a-much-better-secret-77",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-much-better-secret-77")
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_a_wrong_old_password_is_shown_next_to_the_form(client):
    alice = UserFactory()
    client.force_login(alice)
    response = client.post(
        reverse("accounts:profile"),
        {
            "form": "password",
            "old_password": "wrong",
            "new_password1": "a-much-better-secret-77",
            "new_password2": "a-much-better-secret-77",
        },
    )
    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.content.decode()


def test_profile_errors_come_back_as_a_fragment_for_htmx(client):
    alice = UserFactory()
    client.force_login(alice)
    response = client.post(
        reverse("accounts:profile"),
        {"form": "profile", "display_name": "x"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="profile-forms"' in html
    assert "<html" not in html
    assert "Use at least 3 characters." in html


def test_the_profile_page_needs_a_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
