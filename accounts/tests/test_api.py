import json
import threading
from datetime import timedelta

import jwt
import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def login(api, email, password=TEST_PASSWORD):
    return api.post("/api/auth/login", {"email": email, "password": password}, format="json")


def test_signup_returns_the_user_and_a_token_pair(api):
    response = api.post(
        "/api/auth/signup",
        {"email": "Alice@Example.com", "password": TEST_PASSWORD, "display_name": "alice"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "alice@example.com"
    assert body["user"]["display_name"] == "alice"
    assert set(body["user"]) == {"id", "email", "display_name", "date_joined"}
    assert body["access"] and body["refresh"]
    me = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.json()["email"] == "alice@example.com"


def test_signup_refuses_a_taken_email_and_a_weak_password_with_codes(api):
    UserFactory(email="alice@example.com")
    response = api.post(
        "/api/auth/signup", {"email": "ALICE@example.com", "password": "1234"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "email_taken"
    assert "password" in body["errors"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"email": "not-an-email", "password": TEST_PASSWORD},
        {"email": ["a@b.com"], "password": TEST_PASSWORD},
        {"email": "a@b.com", "password": None},
        {"email": "a@b.com", "password": "x" * 500},
    ],
)
def test_bad_signup_input_is_a_400_with_field_errors(api, payload):
    response = api.post("/api/auth/signup", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and body["code"] and body["errors"]
    assert not User.objects.exists()


def test_malformed_json_is_a_400_with_a_code(api):
    response = api.post("/api/auth/login", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_an_oversized_body_is_refused_before_it_is_read(api):
    body = json.dumps({"email": "a@b.com", "password": "x" * 300_000})
    response = api.post("/api/auth/login", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_login_gives_tokens_and_bad_credentials_read_the_same(api):
    UserFactory(email="bob@example.com")
    ok = login(api, "BOB@example.com")
    assert ok.status_code == 200
    assert set(ok.json()) == {"access", "refresh"}
    wrong = login(api, "bob@example.com", "wrong-password")
    unknown = login(api, "nobody@example.com", "wrong-password")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "detail": "Invalid email or password.",
            "code": "invalid_credentials",
        }
    )


def test_failed_logins_lock_the_account_with_429_even_for_the_right_password(api):
    UserFactory(email="bob@example.com")
    for _ in range(4):
        assert login(api, "bob@example.com", "wrong").status_code == 401
    assert login(api, "bob@example.com", "wrong").status_code == 429  # the fifth locks
    locked = login(api, "bob@example.com")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"


def test_failed_logins_lock_out_the_ip_across_accounts(api):
    for n in range(5):
        login(api, f"guess{n}@example.com", "wrong")
    UserFactory(email="carol@example.com")
    assert login(api, "carol@example.com").status_code == 429


def test_refresh_rotates_and_the_old_refresh_token_stops_working(api):
    UserFactory(email="bob@example.com")
    tokens = login(api, "bob@example.com").json()
    rotated = api.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh"] != tokens["refresh"]
    reuse = api.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "token_not_valid"
    again = api.post("/api/auth/refresh", {"refresh": new["refresh"]}, format="json")
    assert again.status_code == 200


def test_logout_blacklists_the_refresh_token(api):
    UserFactory(email="bob@example.com")
    tokens = login(api, "bob@example.com").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = api.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 205
    api.credentials()
    reuse = api.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reuse.status_code == 401


def test_logout_cannot_revoke_someone_elses_token(api):
    alice = UserFactory()
    bob = UserFactory()
    bobs_refresh = str(RefreshToken.for_user(bob))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(alice)}")
    response = api.post("/api/auth/logout", {"refresh": bobs_refresh}, format="json")
    assert response.status_code == 401
    api.credentials()
    assert (
        api.post("/api/auth/refresh", {"refresh": bobs_refresh}, format="json").status_code == 200
    )


def test_me_needs_authentication(api):
    response = api.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_changes_the_display_name(api):
    alice = UserFactory()
    api.force_authenticate(alice)
    response = api.patch("/api/auth/me", {"display_name": "alice-the-bold"}, format="json")
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.display_name == "alice-the-bold"


def test_an_expired_access_token_is_refused(api):
    user = UserFactory()
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    response = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_tampered_access_token_is_refused(api):
    user = UserFactory()
    other = UserFactory()
    header, _payload, signature = str(AccessToken.for_user(user)).split(".")
    forged_payload = str(AccessToken.for_user(other)).split(".")[1]
    response = api.get(
        "/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {header}.{forged_payload}.{signature}"
    )
    assert response.status_code == 401


def test_an_unsigned_alg_none_token_is_refused(api):
    user = UserFactory()
    claims = dict(AccessToken.for_user(user).payload)
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    response = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {unsigned}")
    assert response.status_code == 401


def test_a_refresh_token_is_not_an_access_token(api):
    user = UserFactory()
    response = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user)}")
    assert response.status_code == 401


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite serialises)"
)
@pytest.mark.django_db(transaction=True)
def test_twenty_racing_refreshes_of_one_token_let_exactly_one_through():
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def use_token():
        client = Client()
        barrier.wait()
        response = client.post(
            "/api/auth/refresh", {"refresh": refresh}, content_type="application/json"
        )
        with lock:
            statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=use_token) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 19


def test_the_openapi_schema_documents_the_auth_endpoints(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/auth/signup", "/api/auth/login", "/api/auth/refresh", "/api/auth/me"):
        assert path in text
    assert "bearer" in text.lower()
    assert api.get("/api/docs/").status_code == 200
    assert api.get("/api/redoc/").status_code == 200


def test_unknown_api_paths_answer_json_404(api):
    response = api.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_api_paths_do_not_redirect(api):
    response = api.post(
        "/api/auth/login", {"email": "x@example.com", "password": "y"}, format="json"
    )
    assert response.status_code == 401
