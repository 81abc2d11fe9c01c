"""/posts and /posts/<id>: every route and status, validation, the authorization matrix."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import write_post

# POST /posts ---------------------------------------------------------------------------------------


def test_create_post(users, posts):
    ann, token = users.register_and_login("ann")
    response = posts.post("/posts", {"title": "  Hello  ", "content": " World ", "user_id": ann["id"]}, token=token)
    assert response.status_code == 201
    post = response.json_body["data"]
    assert post["title"] == "Hello" and post["content"] == "World"
    assert post["author"]["id"] == ann["id"] and post["author"]["username"] == "ann"
    assert post["likes"] == 0 and post["comments_count"] == 0 and post["comments"] == []
    assert post["liked_by_me"] is False
    assert post["date_posted"].endswith("+00:00")


@pytest.mark.slow
def test_create_needs_a_token_and_your_own_user_id(users, posts):
    _, token = users.register_and_login("ann")
    bob = users.register("bob")
    assert posts.post("/posts", {"title": "t", "content": "c"}).status_code == 401
    other = posts.post("/posts", {"title": "t", "content": "c", "user_id": bob["id"]}, token=token)
    assert other.status_code == 403
    assert posts.get("/posts").json_body["pagination_meta"]["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": "c"}, "title"),
        ({"title": "t"}, "content"),
        ({"title": "", "content": "c"}, "title"),
        ({"title": "   ", "content": "c"}, "title"),
        ({"title": "x" * 101, "content": "c"}, "title"),
        ({"title": "t", "content": "x" * 20001}, "content"),
        ({"title": 5, "content": "c"}, "title"),
        ({"title": "t", "content": "c", "user_id": "me"}, "user_id"),
        ({"title": "t", "content": "c", "likes": 99}, "likes"),
    ],
)
def test_create_validation(users, posts, body, field):
    _, token = users.register_and_login("ann")
    response = posts.post("/posts", body, token=token)
    assert response.status_code == 400
    assert field in response.json_body["errors"]


def test_title_of_100_and_content_of_20000_characters_are_fine(users, posts):
    _, token = users.register_and_login("ann")
    post = write_post(posts, token, "x" * 100, "y" * 20000)
    assert len(post["title"]) == 100


def test_malformed_json_is_400(users, posts):
    _, token = users.register_and_login("ann")
    assert posts.post("/posts", raw="{oops", token=token).status_code == 400


# GET /posts/<id> -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_get_post_with_comments_and_liked_by_me(users, posts):
    _, ann_token = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    post = write_post(posts, ann_token)
    posts.post(f"/posts/{post['id']}/comments", {"text": "first"}, token=bob_token)
    posts.post(f"/posts/{post['id']}/comments", {"text": "second"}, token=ann_token)
    posts.post(f"/posts/{post['id']}/likes", token=bob_token)
    anonymous = posts.get(f"/posts/{post['id']}").json_body["data"]
    assert "liked_by_me" not in anonymous
    assert [c["text"] for c in anonymous["comments"]] == ["second", "first"]  # newest first
    assert [c["author_name"] for c in anonymous["comments"]] == ["ann", "bob"]
    assert anonymous["comments_next_cursor"] is None
    assert anonymous["likes"] == 1 and anonymous["comments_count"] == 2
    assert "email" not in anonymous["author"]
    assert posts.get(f"/posts/{post['id']}", token=bob_token).json_body["data"]["liked_by_me"] is True
    as_ann = posts.get(f"/posts/{post['id']}", token=ann_token).json_body["data"]
    assert as_ann["liked_by_me"] is False and as_ann["author"]["email"] == "ann@example.com"


@pytest.mark.parametrize("raw_id", ["999", "abc", "0", "99999999999"])
def test_missing_post_is_404_on_every_route(users, posts, raw_id):
    _, token = users.register_and_login("ann")
    for method, path, body in [
        ("GET", f"/posts/{raw_id}", None),
        ("PUT", f"/posts/{raw_id}", {"title": "t"}),
        ("POST", f"/posts/{raw_id}", {"title": "t"}),
        ("DELETE", f"/posts/{raw_id}", None),
        ("POST", f"/posts/{raw_id}/likes", None),
        ("DELETE", f"/posts/{raw_id}/likes", None),
        ("POST", f"/posts/{raw_id}/comments", {"text": "hi"}),
        ("DELETE", f"/posts/{raw_id}/comments/1", None),
    ]:
        response = posts.call(method, path, body, token=token)
        assert response.status_code == 404, (method, path)
        assert response.json_body["status"] == "fail"
    assert posts.get(f"/posts/{raw_id}").json_body["message"] == "Post not found"


# PUT / POST /posts/<id> ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_author_updates_with_put_or_post(users, posts, method):
    _, token = users.register_and_login("ann")
    post = write_post(posts, token)
    response = posts.call(method, f"/posts/{post['id']}", {"title": "New title"}, token=token)
    assert response.status_code == 200
    data = response.json_body["data"]
    assert data["title"] == "New title" and data["content"] == "World"
    assert data["updated_at"] is not None
    assert posts.get(f"/posts/{post['id']}").json_body["data"]["title"] == "New title"


@pytest.mark.slow
def test_update_authorization_matrix(users, posts):
    _, ann_token = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    post = write_post(posts, ann_token)
    assert posts.put(f"/posts/{post['id']}", {"title": "x"}).status_code == 401
    other = posts.put(f"/posts/{post['id']}", {"title": "x"}, token=bob_token)
    assert other.status_code == 403
    assert other.json_body["message"] == "Only the author of the post can operate on it."
    assert posts.get(f"/posts/{post['id']}").json_body["data"]["title"] == "Hello"


@pytest.mark.parametrize("body", [{}, {"title": ""}, {"content": "x" * 20001}, {"title": "x" * 101}, {"author": 1}])
def test_update_validation(users, posts, body):
    _, token = users.register_and_login("ann")
    post = write_post(posts, token)
    assert posts.put(f"/posts/{post['id']}", body, token=token).status_code == 400


# DELETE /posts/<id> --------------------------------------------------------------------------------


@pytest.mark.slow
def test_delete_authorization_matrix_and_cascade(users, posts, database_url):
    ann, ann_token = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    post = write_post(posts, ann_token)
    posts.post(f"/posts/{post['id']}/likes", token=bob_token)
    posts.post(f"/posts/{post['id']}/comments", {"text": "hi"}, token=bob_token)
    assert posts.delete(f"/posts/{post['id']}").status_code == 401
    assert posts.delete(f"/posts/{post['id']}", token=bob_token).status_code == 403
    assert posts.delete(f"/posts/{post['id']}", token=ann_token).status_code == 204
    assert posts.get(f"/posts/{post['id']}").status_code == 404
    assert posts.delete(f"/posts/{post['id']}", token=ann_token).status_code == 404
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM likes")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM comments")).scalar() == 0
        assert conn.execute(text("SELECT post_count FROM users WHERE id = :id"), {"id": ann["id"]}).scalar() == 0
    engine.dispose()


def test_a_revoked_token_cannot_write(users, posts):
    _, token = users.register_and_login("ann")
    users.delete("/user-auth", token=token)
    assert posts.post("/posts", {"title": "t", "content": "c"}, token=token).status_code == 401
