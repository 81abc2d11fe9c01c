"""/user-auth: tokens, the seed's GET login, logout, brute-force limit, and what a token must be."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from jose import jwt
from sqlalchemy import create_engine, text

from blog_shared import keys, tokens
from tests.helpers import PASSWORD, app_module


def test_post_login_returns_user_and_a_verifiable_token(users):
    ann = users.register("ann")
    response = users.post("/user-auth", {"email": "ann@example.com", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json_body
    assert body["status"] == "success"
    assert body["data"]["id"] == ann["id"] and body["data"]["email"] == "ann@example.com"
    assert body["token_type"] == "Bearer"
    assert 23 * 3600 < body["expires_in"] <= 24 * 3600
    claims = tokens.decode(body["access_token"], tokens.ACCESS)
    assert claims.subject == str(ann["id"])
    header = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "=="))
    assert header["alg"] == "ES256" and header["kid"] == keys.signing_key().kid


def test_remember_me_gives_a_long_token(users):
    users.register("ann")
    response = users.post("/user-auth", {"email": "ann@example.com", "password": PASSWORD, "remember": True})
    assert response.json_body["expires_in"] > 29 * 24 * 3600


@pytest.mark.slow
def test_legacy_get_login_with_query_email_and_json_password(users):
    ann = users.register("ann")
    response = users.call("GET", "/user-auth?email=ann@example.com", {"password": PASSWORD})
    assert response.status_code == 200
    assert response.json_body["data"]["id"] == ann["id"]
    assert tokens.decode(response.json_body["access_token"], tokens.ACCESS).subject == str(ann["id"])
    assert users.call("GET", "/user-auth?email=ann@example.com", {"password": "wrong password"}).status_code == 401
    assert users.call("GET", "/user-auth?email=zed@example.com", {"password": PASSWORD}).status_code == 404
    missing = users.call("GET", "/user-auth", {"password": PASSWORD})
    assert missing.status_code == 400 and missing.json_body["errors"] == {"email": ["Email argument not provided"]}
    assert users.call("GET", "/user-auth?email=ann@example.com", {}).status_code == 400


@pytest.mark.slow
def test_wrong_password_is_401_and_unknown_email_404(users):
    users.register("ann")
    wrong = users.post("/user-auth", {"email": "ann@example.com", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.json_body["status"] == "fail"
    unknown = users.post("/user-auth", {"email": "zed@example.com", "password": PASSWORD})
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    "body", [{}, {"email": "ann@example.com"}, {"password": PASSWORD}, {"email": 5, "password": PASSWORD}]
)
def test_login_validation(users, body):
    assert users.post("/user-auth", body).status_code == 400


def test_email_login_is_case_insensitive(users):
    users.register("ann", "Ann@Example.com")
    assert users.login("ann@example.COM")


def attempt(users, email: str, password: str, address: str):
    return users.post("/user-auth", {"email": email, "password": password}, headers=as_client(address))


def as_client(address: str) -> dict[str, str]:
    return {tokens.CLIENT_HEADER: tokens.client_token("user-api", address)}


@pytest.mark.slow
def test_an_attackers_failures_from_one_address_do_not_stop_the_owner(users):
    users.register("ann")
    attacker, owner = "203.0.113.66", "198.51.100.7"
    for n in range(auth_store().ADDRESS_FAILURES):
        assert attempt(users, "ann@example.com", f"guess {n}", attacker).status_code == 401
    throttled = attempt(users, "ann@example.com", PASSWORD, attacker)  # no password check any more
    assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 15 * 60 + 1
    assert attempt(users, "bob@example.com", "guess", attacker).status_code == 429  # that address, any account
    assert attempt(users, "ann@example.com", PASSWORD, owner).status_code == 200  # the owner gets in


@pytest.mark.slow
def test_an_account_attacked_from_many_addresses_gets_growing_delays_the_reset_lifts(users, database_url):
    ann = users.register("ann")
    for n in range(1, 6):  # five failures from five addresses
        assert attempt(users, "ann@example.com", f"guess {n}", f"203.0.113.{n}").status_code == 401
    engine = create_engine(database_url)
    delays = []
    for n in range(6, 9):
        waiting = attempt(users, "ann@example.com", PASSWORD, "198.51.100.7")  # even the right password waits
        assert waiting.status_code == 429
        delays.append(int(waiting.headers["Retry-After"]))
        with engine.begin() as conn:  # the delay passes
            conn.execute(text("UPDATE login_attempts SET attempted_at = attempted_at - interval '10 seconds'"))
        assert attempt(users, "ann@example.com", f"guess {n}", f"203.0.113.{n}").status_code == 401
    engine.dispose()
    assert delays == sorted(delays) and delays[-1] >= 2 * delays[0]  # growing: 1 s, 2 s, 4 s (+1)
    # The reset link (it goes to the owner's address) clears the account's failures.
    token = tokens.issue(
        ann["id"], tokens.PASSWORD_RESET, 60, ver=1, em=tokens.email_fingerprint("ann@example.com")
    ).token
    assert users.post("/password-reset", {"token": token, "password": "a brand new passphrase"}).status_code == 200
    assert attempt(users, "ann@example.com", "a brand new passphrase", "198.51.100.7").status_code == 200


@pytest.mark.slow
def test_a_success_clears_the_accounts_failures(users, database_url):
    users.register("ann")
    for n in range(4):
        attempt(users, "ann@example.com", "wrong pass", f"203.0.113.{n}")
    assert attempt(users, "ann@example.com", PASSWORD, "203.0.113.1").status_code == 200
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM login_attempts WHERE email <> ''")).scalar_one() == 0
    engine.dispose()


def auth_store():
    return app_module("user_api", "chalicelib.auth.store")


@pytest.mark.slow
def test_logout_revokes_the_token_only(users):
    ann, first = users.register_and_login("ann")
    second = users.login("ann@example.com")
    assert users.delete("/user-auth", token=first).status_code == 204
    assert users.put(f"/users/{ann['id']}", {"username": "ann2"}, token=first).status_code == 401
    assert users.delete("/user-auth", token=first).status_code == 401
    assert users.put(f"/users/{ann['id']}", {"username": "ann2"}, token=second).status_code == 200


def test_logout_without_token_is_401(users):
    assert users.delete("/user-auth").status_code == 401


def _forged(claims_override: dict, key: str | None = None, algorithm: str = "ES256") -> str:
    """A token with the real key id, signed with user_api's key unless ``key`` is given."""
    now = datetime.now(UTC)
    settings = tokens.get_settings()
    claims = {
        "sub": "1",
        "purpose": tokens.ACCESS,
        "jti": "5f0c3a52-9a4e-4d0e-9a51-0d7c8e1f2a3b",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "ver": 1,
        **claims_override,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    real = keys.signing_key()
    return jwt.encode(claims, key or real.pem, algorithm=algorithm, headers={"kid": real.kid})


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    "make_token",
    [
        lambda: _forged({}, key=keys.new_signing_key().pem),
        lambda: _forged({"exp": int(time.time()) - 10}),
        lambda: _forged({"aud": "someone-else"}),
        lambda: _forged({"iss": "someone-else"}),
        lambda: _forged({"purpose": "password_reset"}),
        lambda: _forged({"purpose": None}),
        lambda: _forged({"jti": None}),
        lambda: _forged({"ver": 2}),
        lambda: _forged({}, key=keys.hmac_secrets(keys.USER_API_CLIENT_SECRET)[0], algorithm="HS512"),
        lambda: _unsigned({"sub": "1", "purpose": "access"}),
        lambda: "not.a.token",
        lambda: "",
    ],
    ids=[
        "wrong-key",
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "wrong-purpose",
        "no-purpose",
        "no-jti",
        "old-session-version",
        "alg-not-allowed",
        "alg-none",
        "garbage",
        "empty",
    ],
)
def test_bad_tokens_are_refused(users, make_token):
    ann, _ = users.register_and_login("ann")
    assert ann["id"] == 1
    response = users.put("/users/1", {"username": "mallory"}, headers={"Authorization": f"Bearer {make_token()}"})
    assert response.status_code == 401
    assert users.get("/users/1").json_body["data"]["username"] == "ann"


def test_a_well_formed_token_for_a_deleted_user_is_refused(users, database_url):
    _, token = users.register_and_login("ann")
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users"))
    engine.dispose()
    assert users.delete("/user-auth", token=token).status_code == 401


def test_overlong_emails_are_4xx_not_500(users):
    long_email = "a" * 300 + "@example.com"
    assert users.call("GET", f"/user-auth?email={long_email}", {"password": PASSWORD}).status_code == 400
    # 200 characters that grow when lowercased still fit the checks, and are simply unknown.
    response = users.post("/user-auth", {"email": "İ" * 200, "password": PASSWORD})
    assert response.status_code in (400, 404)
