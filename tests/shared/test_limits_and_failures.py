"""Rate limits (429 with Retry-After, per account and per client address, counted in
PostgreSQL and swept when stale) and the last resort for an unexpected exception (our 500
envelope with a request id, logged)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from blog_shared import limits, tokens
from devtools.worker import schedule_event
from tests.helpers import app_module, write_post


def count_rows(database_url: str, table: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        found = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    engine.dispose()
    return found


def as_client(address: str) -> dict[str, str]:
    return {tokens.CLIENT_HEADER: tokens.client_token("user-api", address)}


@pytest.mark.slow
def test_comments_past_the_limit_are_429_with_retry_after(users, posts):
    _, token = users.register_and_login("ann")
    post = write_post(posts, token)
    for n in range(limits.COMMENT.per_account):
        assert posts.post(f"/posts/{post['id']}/comments", {"text": f"c{n}"}, token=token).status_code == 201
    refused = posts.post(f"/posts/{post['id']}/comments", {"text": "one too many"}, token=token)
    assert refused.status_code == 429 and refused.json_body["status"] == "fail"
    assert 1 <= int(refused.headers["Retry-After"]) <= limits.COMMENT.window + 1
    # Another writer is not held back by ann's count.
    _, bob_token = users.register_and_login("bob")
    assert posts.post(f"/posts/{post['id']}/comments", {"text": "hi"}, token=bob_token).status_code == 201
    assert posts.get(f"/posts/{post['id']}").json_body["data"]["comments_count"] == limits.COMMENT.per_account + 1


@pytest.mark.slow
def test_sign_ups_are_limited_per_client_address(users):
    def sign_up(name: str, address: str):
        body = {"username": name, "email": f"{name}@example.com", "password": "correct horse battery"}
        return users.post("/users", body, headers=as_client(address))

    for n in range(limits.REGISTER.per_address):
        assert sign_up(f"user{n}", "203.0.113.7").status_code == 201
    refused = sign_up("onemore", "203.0.113.7")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert sign_up("elsewhere", "198.51.100.1").status_code == 201
    # One IPv6 host holds a whole /64: its addresses count together.
    for n in range(limits.REGISTER.per_address):
        assert sign_up(f"six{n}", f"2001:db8:1:2::{n + 1:x}").status_code == 201
    assert sign_up("sixmore", "2001:db8:1:2:ffff::1").status_code == 429


def test_a_forged_client_header_counts_against_the_callers_own_address(users):
    forged = {tokens.CLIENT_HEADER: "not-a-token"}
    for n in range(limits.REGISTER.per_address):
        body = {"username": f"f{n}", "email": f"f{n}@example.com", "password": "correct horse battery"}
        assert users.post("/users", body, headers=forged).status_code == 201
    body = {"username": "again", "email": "again@example.com", "password": "correct horse battery"}
    assert users.post("/users", body, headers=as_client("192.0.2.55")).status_code == 201
    assert users.post("/users", {**body, "username": "again2", "email": "a2@example.com"}).status_code == 429


def test_password_reset_requests_are_limited_per_address_asked_for(users, mail_flow):
    users.register("ann")
    for _ in range(limits.PASSWORD_RESET.per_account):
        assert users.post("/password-reset/request", {"email": "ann@example.com"}).status_code == 202
    assert users.post("/password-reset/request", {"email": "ANN@example.com"}).status_code == 429
    assert users.post("/password-reset/request", {"email": "bob@example.com"}).status_code == 202


@pytest.mark.slow
def test_stale_counts_and_failed_logins_are_swept(users, user_api_app, database_url):
    users.register("ann")
    for n in range(3):
        users.post("/user-auth", {"email": f"nobody{n}@example.com", "password": "wrong password"})
    engine = create_engine(database_url)
    with engine.begin() as conn:
        old = datetime.now(UTC) - timedelta(hours=2)
        conn.execute(text("UPDATE login_attempts SET attempted_at = :old"), {"old": old})
        conn.execute(text("UPDATE rate_limit_hits SET window_end = :old"), {"old": old})
    engine.dispose()
    assert count_rows(database_url, "login_attempts") == 3 and count_rows(database_url, "rate_limit_hits") >= 1
    user_api_app.handler_map["republish_stalled_mail"](schedule_event(), None)
    assert count_rows(database_url, "login_attempts") == 0 and count_rows(database_url, "rate_limit_hits") == 0


def test_an_unexpected_exception_is_our_500_with_a_request_id(posts, monkeypatch, caplog):
    store = app_module("post_api", "chalicelib.posts.store")

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(store, "list_posts", broken)
    with caplog.at_level(logging.ERROR):
        response = posts.get("/posts")
    assert response.status_code == 500
    body = response.json_body
    assert body["status"] == "error" and "a bug" not in str(body) and "Traceback" not in str(body)
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    logged = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # with its traceback
    monkeypatch.undo()
    assert posts.get("/posts").status_code == 200  # the container goes on serving
