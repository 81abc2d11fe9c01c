"""Tags: up to ten per post, any case in, lower-case out; ?tag= filters; /tags counts."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import write_post


def test_tags_are_stored_lower_case_once_each(users, posts):
    _, token = users.register_and_login("ann")
    post = write_post(posts, token, tags=["Python", "python", "Web-Dev", "2026"])
    assert post["tags"] == ["python", "web-dev", "2026"]
    assert posts.get(f"/posts/{post['id']}").json_body["data"]["tags"] == ["python", "web-dev", "2026"]
    assert write_post(posts, token, title="No tags")["tags"] == []
    assert write_post(posts, token, title="Repeats", tags=["a", "A"] * 5)["tags"] == ["a"]  # repeats kept once


@pytest.mark.parametrize(
    "tags",
    [
        [f"t{i}" for i in range(11)],
        ["two words"],
        [""],
        ["x" * 31],
        ["under_score"],
        ["ünï"],
        [7],
        "python",
        [None],
    ],
)
def test_a_bad_tag_list_is_refused(users, posts, tags):
    _, token = users.register_and_login("ann")
    answer = posts.post("/posts", {"title": "t", "content": "c", "tags": tags}, token=token)
    assert answer.status_code == 400 and "tags" in answer.json_body["errors"], answer.json_body
    assert posts.get("/posts").json_body["pagination_meta"]["total"] == 0


def test_the_tag_filter_and_the_counts_follow_every_write(users, posts):
    _, token = users.register_and_login("ann")
    first = write_post(posts, token, title="One", tags=["python", "web"])
    second = write_post(posts, token, title="Two", tags=["python"])
    write_post(posts, token, title="Three")
    listed = posts.get("/posts?tag=PYTHON").json_body
    assert [p["title"] for p in listed["data"]["posts"]] == ["Two", "One"]
    assert listed["pagination_meta"]["total"] == 2
    assert posts.get("/tags").json_body["data"]["tags"] == [
        {"name": "python", "post_count": 2},
        {"name": "web", "post_count": 1},
    ]
    posts.put(f"/posts/{first['id']}", {"tags": ["web", "news"]}, token=token)
    posts.delete(f"/posts/{second['id']}", token=token)
    assert posts.get("/tags").json_body["data"]["tags"] == [
        {"name": "news", "post_count": 1},
        {"name": "web", "post_count": 1},
    ]
    assert posts.get("/posts?tag=python").json_body["data"]["posts"] == []
    assert posts.get("/tags?limit=1").json_body["data"]["tags"] == [{"name": "news", "post_count": 1}]
    for bad in ("/tags?limit=0", "/tags?limit=101", "/posts?tag=a%20b", "/posts?tag=x&author=ann"):
        assert posts.get(bad).status_code == 400, bad


def test_concurrent_tag_changes_neither_deadlock_nor_drift(users, posts, database_url):
    """Writers changing overlapping tags in opposite orders, at once: every request
    succeeds and the counts end equal to the posts' tags."""
    _, token = users.register_and_login("ann")
    made = [write_post(posts, token, title=f"p{i}", tags=["a", "z"]) for i in range(6)]
    choices = [["a"], ["z"], ["a", "z"], ["m", "a"], ["z", "m"], []]
    errors: list[object] = []

    def churn(post: dict, offset: int) -> None:
        for round_ in range(12):
            tags = choices[(round_ + offset) % len(choices)]
            answer = posts.put(f"/posts/{post['id']}", {"tags": tags}, token=token)
            if answer.status_code != 200:
                errors.append(answer.json_body)

    threads = [threading.Thread(target=churn, args=(post, i)) for i, post in enumerate(made)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = create_engine(database_url)
    with engine.connect() as conn:
        actual = dict(conn.execute(text("SELECT name, post_count FROM tags ORDER BY name")).all())  # none at 0
        expected = dict(
            conn.execute(text("SELECT tag, count(*) FROM posts, unnest(tags) AS tag GROUP BY tag ORDER BY tag")).all()
        )
    engine.dispose()
    assert actual == expected
