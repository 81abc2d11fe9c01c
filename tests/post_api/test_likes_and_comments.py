"""/posts/<id>/likes and /posts/<id>/comments."""

from __future__ import annotations

import pytest

from tests.helpers import seed_comments, write_post


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


def numbers(comments: list[dict]) -> list[int]:
    return [int(c["text"].split()[0]) for c in comments]


@pytest.mark.slow
def test_comments_come_a_page_at_a_time_newest_first(users, posts, database_url, statements):
    ann, token = users.register_and_login("ann")
    post = write_post(posts, token)
    seed_comments(database_url, post["id"], ann["id"], 45)
    statements.clear()
    detail = posts.get(f"/posts/{post['id']}").json_body["data"]
    assert len(statements) == 2, statements  # the post with its counts, then the comments
    assert detail["comments_count"] == 45
    assert numbers(detail["comments"]) == list(range(45, 25, -1))
    seen = numbers(detail["comments"])
    cursor = detail["comments_next_cursor"]
    while cursor:
        page = posts.get(f"/posts/{post['id']}/comments?cursor={cursor}")
        assert page.status_code == 200
        seen += numbers(page.json_body["data"]["comments"])
        cursor = page.json_body["next_cursor"]
    assert seen == list(range(45, 0, -1))
    small = posts.get(f"/posts/{post['id']}/comments?per_page=7").json_body
    assert numbers(small["data"]["comments"]) == list(range(45, 38, -1)) and small["next_cursor"]


@pytest.mark.slow
def test_a_post_with_thousands_of_long_comments_stays_small(users, posts, database_url):
    ann, token = users.register_and_login("ann")
    post = write_post(posts, token)
    seed_comments(database_url, post["id"], ann["id"], 3000, length=2000)
    response = posts.get(f"/posts/{post['id']}")
    assert response.status_code == 200
    # 20 comments of 2,000 characters: about 43 KB, where all 3,000 made about 6.3 MB.
    assert len(response.body) < 64 * 1024
    assert response.json_body["data"]["comments_count"] == 3000


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/posts/999/comments", 404),
        ("/posts/abc/comments", 404),
        ("/posts/{id}/comments?per_page=0", 400),
        ("/posts/{id}/comments?per_page=51", 400),
        ("/posts/{id}/comments?cursor=nope", 400),
        ("/posts/{id}/comments?cursor=%00", 400),
    ],
)
def test_comment_pages_refuse_what_they_cannot_serve(users, posts, path, status):
    _, token = users.register_and_login("ann")
    post = write_post(posts, token)
    response = posts.get(path.format(id=post["id"]))
    assert response.status_code == status and response.json_body["status"] == "fail"
