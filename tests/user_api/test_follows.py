"""/user-follow: follow and unfollow, idempotence, authorization and concurrency."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text


@pytest.mark.slow
def test_follow_returns_201_with_the_followed_user_and_counts(users):
    ann, token = users.register_and_login("ann")
    bob = users.register("bob")
    response = users.post(f"/user-follow/{ann['id']}/bob", token=token)
    assert response.status_code == 201
    assert response.json_body["data"]["id"] == bob["id"]
    assert response.json_body["data"]["follower_count"] == 1
    assert "email" not in response.json_body["data"]
    assert users.get(f"/users/{ann['id']}").json_body["data"]["following_count"] == 1


@pytest.mark.slow
def test_follow_is_idempotent(users):
    ann, token = users.register_and_login("ann")
    users.register("bob")
    for _ in range(3):
        assert users.post(f"/user-follow/{ann['id']}/bob", token=token).status_code == 201
    assert users.get("/users?username=bob").json_body["data"]["follower_count"] == 1


@pytest.mark.slow
def test_unfollow_returns_204_and_is_idempotent(users):
    ann, token = users.register_and_login("ann")
    users.register("bob")
    users.post(f"/user-follow/{ann['id']}/bob", token=token)
    assert users.delete(f"/user-follow/{ann['id']}/bob", token=token).status_code == 204
    assert users.delete(f"/user-follow/{ann['id']}/bob", token=token).status_code == 204
    assert users.get("/users?username=bob").json_body["data"]["follower_count"] == 0


def test_follow_yourself_is_400_with_the_seed_messages(users):
    ann, token = users.register_and_login("ann")
    follow = users.post(f"/user-follow/{ann['id']}/ann", token=token)
    assert follow.status_code == 400 and follow.json_body["message"] == "You cannot follow yourself."
    unfollow = users.delete(f"/user-follow/{ann['id']}/ann", token=token)
    assert unfollow.status_code == 400 and unfollow.json_body["message"] == "You cannot unfollow yourself."


def test_follow_unknown_user_is_404(users):
    ann, token = users.register_and_login("ann")
    for method in ("post", "delete"):
        response = getattr(users, method)(f"/user-follow/{ann['id']}/nobody", token=token)
        assert response.status_code == 404
        assert response.json_body["message"] == "No user with username nobody"


@pytest.mark.slow
def test_follow_authorization_matrix(users):
    ann, _ = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    users.register("carl")
    for method in ("post", "delete"):
        call = getattr(users, method)
        assert call(f"/user-follow/{ann['id']}/carl").status_code == 401
        assert call(f"/user-follow/{ann['id']}/carl", token=bob_token).status_code == 403
        assert call("/user-follow/abc/carl", token=bob_token).status_code == 404
    assert users.get("/users?username=carl").json_body["data"]["follower_count"] == 0


@pytest.mark.slow
def test_deleting_a_user_removes_their_follows(users, database_url):
    ann, token = users.register_and_login("ann")
    users.register("bob")
    users.post(f"/user-follow/{ann['id']}/bob", token=token)
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = 'ann'"))
    engine.dispose()
    assert users.get("/users?username=bob").json_body["data"]["follower_count"] == 0


@pytest.mark.slow
def test_follow_status(users):
    ann, token = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    assert users.get(f"/user-follow/{ann['id']}/bob", token=token).json_body["data"] == {"following": False}
    users.post(f"/user-follow/{ann['id']}/bob", token=token)
    assert users.get(f"/user-follow/{ann['id']}/BOB", token=token).json_body["data"] == {"following": True}
    assert users.get(f"/user-follow/{ann['id']}/bob").status_code == 401
    assert users.get(f"/user-follow/{ann['id']}/bob", token=bob_token).status_code == 403
    assert users.get(f"/user-follow/{ann['id']}/nobody", token=token).status_code == 404
