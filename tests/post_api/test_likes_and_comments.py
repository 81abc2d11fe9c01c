"""/posts/<id>/likes and /posts/<id>/comments."""

from __future__ import annotations

import pytest

from tests.helpers import write_post


@pytest.mark.slow
def test_like_is_once_per_user_and_unlike_takes_it_back(users, posts):
    _, ann_token = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    post = write_post(posts, ann_token)
    for _ in range(3):
        liked = posts.post(f"/posts/{post['id']}/likes", token=bob_token)
        assert liked.status_code == 201
        assert liked.json_body["data"] == {"post_id": post["id"], "likes": 1, "liked_by_me": True}
    assert posts.post(f"/posts/{post['id']}/likes", token=ann_token).json_body["data"]["likes"] == 2
    assert posts.delete(f"/posts/{post['id']}/likes", token=bob_token).status_code == 204
    assert posts.delete(f"/posts/{post['id']}/likes", token=bob_token).status_code == 204
    assert posts.get(f"/posts/{post['id']}").json_body["data"]["likes"] == 1


@pytest.mark.slow
def test_likes_need_a_token_and_your_own_user_id(users, posts):
    _, ann_token = users.register_and_login("ann")
    bob = users.register("bob")
    post = write_post(posts, ann_token)
    assert posts.post(f"/posts/{post['id']}/likes").status_code == 401
    assert posts.delete(f"/posts/{post['id']}/likes").status_code == 401
    assert posts.post(f"/posts/{post['id']}/likes", {"user_id": bob["id"]}, token=ann_token).status_code == 403
    assert posts.get(f"/posts/{post['id']}").json_body["data"]["likes"] == 0


@pytest.mark.slow
def test_comment_on_a_post(users, posts):
    _, ann_token = users.register_and_login("ann")
    bob, bob_token = users.register_and_login("bob")
    post = write_post(posts, ann_token)
    response = posts.post(f"/posts/{post['id']}/comments", {"text": "  Nice post  "}, token=bob_token)
    assert response.status_code == 201
    comment = response.json_body["data"]
    assert comment["text"] == "Nice post" and comment["author_name"] == "bob" and comment["author_id"] == bob["id"]
    assert comment["date_posted"].endswith("+00:00")


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "   "}, {"text": "x" * 2001}, {"text": ["a"]}])
def test_comment_validation(users, posts, body):
    _, token = users.register_and_login("ann")
    post = write_post(posts, token)
    response = posts.post(f"/posts/{post['id']}/comments", body, token=token)
    assert response.status_code == 400 and response.json_body["errors"]


@pytest.mark.slow
def test_comment_authorization(users, posts):
    _, ann_token = users.register_and_login("ann")
    bob = users.register("bob")
    post = write_post(posts, ann_token)
    assert posts.post(f"/posts/{post['id']}/comments", {"text": "hi"}).status_code == 401
    other = posts.post(f"/posts/{post['id']}/comments", {"text": "hi", "user_id": bob["id"]}, token=ann_token)
    assert other.status_code == 403
    assert posts.post(f"/posts/{post['id']}/comments", {"text": "x" * 2000}, token=ann_token).status_code == 201


@pytest.mark.slow
def test_delete_comment_by_its_author_or_the_posts_author_only(users, posts):
    _, ann_token = users.register_and_login("ann")  # the post's author
    _, bob_token = users.register_and_login("bob")  # the commenter
    _, carl_token = users.register_and_login("carl")  # neither
    post = write_post(posts, ann_token)
    first = posts.post(f"/posts/{post['id']}/comments", {"text": "one"}, token=bob_token).json_body["data"]
    second = posts.post(f"/posts/{post['id']}/comments", {"text": "two"}, token=bob_token).json_body["data"]
    path = f"/posts/{post['id']}/comments"
    assert posts.delete(f"{path}/{first['id']}").status_code == 401
    forbidden = posts.delete(f"{path}/{first['id']}", token=carl_token)
    assert forbidden.status_code == 403
    assert posts.delete(f"{path}/{first['id']}", token=bob_token).status_code == 204
    assert posts.delete(f"{path}/{second['id']}", token=ann_token).status_code == 204
    assert posts.delete(f"{path}/{second['id']}", token=ann_token).status_code == 404
    assert posts.delete(f"{path}/abc", token=ann_token).status_code == 404
    assert posts.get(f"/posts/{post['id']}").json_body["data"]["comments"] == []


def test_a_comment_is_only_found_under_its_own_post(users, posts):
    _, token = users.register_and_login("ann")
    one, two = write_post(posts, token), write_post(posts, token)
    comment = posts.post(f"/posts/{one['id']}/comments", {"text": "hi"}, token=token).json_body["data"]
    assert posts.delete(f"/posts/{two['id']}/comments/{comment['id']}", token=token).status_code == 404
