"""Hostile input at the APIs' edges, over real HTTP (`chalice local`): each example answers a
clear 4xx in our JSON envelope, never a 5xx, and the service keeps working after it."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from tests.helpers import PASSWORD, register_over_http

pytestmark = pytest.mark.http

NUL, SURROGATE = "\x00", "\\ud800"  # the surrogate as JSON writes it: json.dumps cannot


def send(method: str, url: str, raw: str | None = None, token: str | None = None, **kw) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(
        method, url, data=raw.encode() if raw is not None else None, headers=headers, timeout=30, **kw
    )


def assert_fails_cleanly(response: requests.Response, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.json()["status"] == "fail"


@pytest.fixture
def author(api_servers) -> tuple[dict, str]:
    return register_over_http(api_servers["users"], "edgy")


def test_nul_characters_in_text_and_parameters_are_refused(api_servers, author):
    users, posts = api_servers["users"], api_servers["posts"]
    _, token = author
    for body in ({"title": f"a{NUL}b", "content": "fine"}, {"title": "fine", "content": f"a{NUL}b"}):
        assert_fails_cleanly(send("POST", f"{posts}/posts", json.dumps(body), token))
    post = send("POST", f"{posts}/posts", json.dumps({"title": "ok", "content": "ok"}), token).json()["data"]
    assert_fails_cleanly(send("POST", f"{posts}/posts/{post['id']}/comments", json.dumps({"text": NUL}), token))
    assert_fails_cleanly(
        send("POST", f"{users}/user-auth", json.dumps({"email": f"x{NUL}@example.com", "password": PASSWORD}))
    )
    assert_fails_cleanly(requests.get(f"{posts}/posts", params={"author": f"edgy{NUL}"}, timeout=30))
    assert_fails_cleanly(requests.get(f"{users}/users", params={"username": f"edgy{NUL}"}, timeout=30))


def test_a_lone_surrogate_is_refused_and_the_service_keeps_working(api_servers, author):
    posts = api_servers["posts"]
    _, token = author
    raw = '{"title": "' + SURROGATE + '", "content": "x"}'
    for _ in range(3):  # the database connection must not be thrown away or poisoned
        assert_fails_cleanly(send("POST", f"{posts}/posts", raw, token))
    assert send("POST", f"{posts}/posts", json.dumps({"title": "after", "content": "x"}), token).status_code == 201


def test_line_breaks_are_text_in_content_but_not_in_a_title(api_servers, author):
    posts = api_servers["posts"]
    _, token = author
    assert_fails_cleanly(send("POST", f"{posts}/posts", json.dumps({"title": "two\nlines", "content": "x"}), token))
    kept = send("POST", f"{posts}/posts", json.dumps({"title": "one line", "content": "two\n\tlines"}), token)
    assert kept.status_code == 201 and kept.json()["data"]["content"] == "two\n\tlines"


@pytest.mark.parametrize(
    "path",
    ["/posts/{id}", "/posts/{id}/likes", "/posts/{id}/comments/{id}", "/users/{id}"],
)
def test_an_id_of_thousands_of_digits_is_not_found(api_servers, author, path):
    huge = "9" * 4301  # past Python's int-conversion limit
    _, token = author
    base = api_servers["users"] if path.startswith("/users") else api_servers["posts"]
    method = "DELETE" if path.endswith("{id}/likes") or "comments" in path else "GET"
    assert_fails_cleanly(send(method, base + path.replace("{id}", huge), token=token), 404)
    assert_fails_cleanly(send(method, base + path.replace("{id}", "2147483648"), token=token), 404)  # past int4


def test_deeply_nested_json_is_refused(api_servers, author):
    _, token = author
    for raw in ("[" * 60_000, '{"title": ' + "[" * 100 + "]" * 100 + ', "content": "x"}'):
        assert_fails_cleanly(send("POST", f"{api_servers['posts']}/posts", raw, token))


def test_a_cursor_whose_number_is_a_boolean_is_refused(api_servers):
    cursor = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00+00:00", True]).encode()).decode().rstrip("=")
    response = requests.get(f"{api_servers['posts']}/posts", params={"cursor": cursor}, timeout=30)
    assert_fails_cleanly(response)
    assert "cursor" in response.json()["errors"]


def test_a_control_character_in_a_path_segment_names_nothing(api_servers, author):
    me, token = author
    response = send("POST", f"{api_servers['users']}/user-follow/{me['id']}/ann%00x", token=token)
    assert_fails_cleanly(response, 404)
