"""POST /oauth-users: only web_frontend (with a service token) may sign people in through
Google or GitHub."""

from __future__ import annotations

from blog_shared import tokens


def service_token(service: str = "web_frontend") -> str:
    return tokens.issue(service, tokens.SERVICE, 60).token


def test_creates_a_passwordless_oauth_account_then_finds_it(users):
    body = {"provider": "github", "email": "Octo@Example.com", "username_hint": "octo cat!"}
    created = users.post("/oauth-users", body, token=service_token())
    assert created.status_code == 201
    user = created.json_body["data"]
    assert user["from_oauth"] is True and user["username"] == "octocat"
    assert tokens.decode(created.json_body["access_token"], tokens.ACCESS).subject == str(user["id"])
    again = users.post("/oauth-users", {**body, "email": "octo@example.com"}, token=service_token())
    assert again.status_code == 200 and again.json_body["data"]["id"] == user["id"]
    # No password exists, so password login cannot succeed.
    assert users.post("/user-auth", {"email": "octo@example.com", "password": "anything at all"}).status_code == 401


def test_usernames_are_made_unique_and_valid(users):
    users.register("octocat")
    second = users.post(
        "/oauth-users",
        {"provider": "google", "email": "o2@example.com", "username_hint": "Octocat"},
        token=service_token(),
    )
    assert second.json_body["data"]["username"] == "Octocat2"
    odd = users.post(
        "/oauth-users", {"provider": "google", "email": "o3@example.com", "username_hint": "é"}, token=service_token()
    )
    assert odd.json_body["data"]["username"] == "user"


def test_only_the_web_frontends_service_token_is_accepted(users):
    body = {"provider": "github", "email": "x@example.com", "username_hint": "x"}
    _, user_token = users.register_and_login("ann")
    assert users.post("/oauth-users", body).status_code == 401
    assert users.post("/oauth-users", body, token=user_token).status_code == 401
    assert users.post("/oauth-users", body, token=service_token("post_api")).status_code == 403
    bad = users.post("/oauth-users", {**body, "provider": "myspace"}, token=service_token())
    assert bad.status_code == 400


def test_an_email_registered_with_a_password_is_not_taken_over(users):
    ann = users.register("ann")
    answer = users.post(
        "/oauth-users",
        {"provider": "google", "email": "ANN@example.com", "username_hint": "ann"},
        token=service_token(),
    )
    assert answer.status_code == 409
    assert "log in with your password" in answer.json_body["message"]
    assert users.login("ann@example.com")
    assert users.get(f"/users/{ann['id']}").json_body["data"]["from_oauth"] is False
