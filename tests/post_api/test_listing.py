"""GET /posts: filters, page numbers, cursors, and a cost that does not grow with the page."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql

from tests.helpers import app_module, seed_posts, write_post


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def titles(response) -> list[str]:
    return [p["title"] for p in response.json_body["data"]["posts"]]


def test_list_newest_first_with_pagination_meta(users, posts):
    _, token = users.register_and_login("ann")
    for i in range(12):
        write_post(posts, token, f"t{i}")
    first = posts.get("/posts")
    assert first.status_code == 200
    assert titles(first) == [f"t{i}" for i in range(11, 1, -1)]
    assert first.json_body["pagination_meta"] == {"page": 1, "per_page": 10, "pages": 2, "total": 12}
    assert first.json_body["data"]["user_data"] is None
    assert "comments" not in first.json_body["data"]["posts"][0]
    second = posts.get("/posts?page=2")
    assert titles(second) == ["t1", "t0"] and second.json_body["next_cursor"] is None
    past = posts.get("/posts?page=9")
    assert past.status_code == 200 and titles(past) == []
    assert past.json_body["pagination_meta"] == {"page": 9, "per_page": 10, "pages": 2, "total": 12}


@pytest.mark.slow
def test_author_filter_and_user_feed(users, posts):
    ann, ann_token = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    _, carl_token = users.register_and_login("carl")
    write_post(posts, ann_token, "ann-1")
    write_post(posts, bob_token, "bob-1")
    write_post(posts, carl_token, "carl-1")
    write_post(posts, ann_token, "ann-2")
    users.post(f"/user-follow/{ann['id']}/bob", token=ann_token)

    by_author = posts.get("/posts?author=ann")
    assert titles(by_author) == ["ann-2", "ann-1"]
    assert by_author.json_body["data"]["user_data"]["username"] == "ann"
    assert by_author.json_body["pagination_meta"]["total"] == 2

    feed = posts.get("/posts?user=ANN", token=ann_token)
    assert titles(feed) == ["ann-2", "bob-1", "ann-1"]
    assert feed.json_body["pagination_meta"]["total"] == 3
    assert feed.json_body["data"]["user_data"]["email"] == "ann@example.com"


@pytest.mark.parametrize("query", ["user=nobody", "author=nobody"])
def test_unknown_filter_user_is_404(users, posts, query):
    _, token = users.register_and_login("ann")
    response = posts.get(f"/posts?{query}", token=token)
    assert response.status_code == 404
    assert response.json_body["message"] == "No user with username nobody"


@pytest.mark.slow
def test_a_feed_is_only_for_its_owner(users, posts):
    users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    assert posts.get("/posts?user=ann").status_code == 401
    assert posts.get("/posts?user=ann", token=bob_token).status_code == 403
    assert posts.get("/posts?user=bob", token=bob_token).status_code == 200


@pytest.mark.parametrize("query", ["page=101", "page=1000000", "page=" + "9" * 30, "user=ann&page=101"])
def test_a_page_past_the_bound_points_to_cursors(users, posts, query):
    _, token = users.register_and_login("ann")
    response = posts.get(f"/posts?{query}", token=token)
    assert response.status_code == 400
    assert "next_cursor" in response.json_body["errors"]["page"][0]
    assert posts.get("/posts?page=100", token=token).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=abc",
        "per_page=0",
        "per_page=-5",
        "per_page=x",
        "user=a&author=b",
        "cursor=!!!",
        "cursor=e30",
        "cursor=" + cursor_of('["9999-12-31T23:59:59-14:00", 1]'),
        "cursor=" + cursor_of('["2026-01-01T00:00:00+00:00", 99999999999]'),
        "cursor=" + cursor_of('["2026-01-01T00:00:00+00:00", Infinity]'),
        "cursor=" + cursor_of('["2026-01-01T00:00:00", 5]'),
        "cursor=" + cursor_of('["0001-01-01T00:00:00+14:00", 5]'),
    ],
)
def test_bad_list_queries_are_400(posts, query):
    response = posts.get(f"/posts?{query}")
    assert response.status_code == 400
    assert response.json_body["status"] == "fail"
    assert posts.get("/posts").status_code == 200  # and the container's connection still works


@pytest.mark.slow
def test_per_page_is_capped_at_50(users, posts, database_url):
    ann, _ = users.register_and_login("ann")
    seed_posts(database_url, {ann["id"]: 60})
    response = posts.get("/posts?per_page=500")
    assert len(response.json_body["data"]["posts"]) == 50
    assert response.json_body["pagination_meta"]["per_page"] == 50


@pytest.mark.slow
def test_cursor_pages_return_every_post_once_while_posts_arrive(users, posts, database_url):
    ann, token = users.register_and_login("ann")
    bob = users.register("bob")
    seed_posts(database_url, {ann["id"]: 23, bob["id"]: 14})
    expected = {f"post {i}" for i in range(1, 24)} | {f"post {i}" for i in range(1, 15)}
    seen: list[tuple[str, int]] = []
    response = posts.get("/posts?per_page=5")
    while True:
        seen += [(p["title"], p["author"]["id"]) for p in response.json_body["data"]["posts"]]
        write_post(posts, token, "arrived meanwhile")  # newer than everything: must not shift the pages
        cursor = response.json_body["next_cursor"]
        if cursor is None:
            break
        response = posts.get(f"/posts?per_page=5&cursor={cursor}")
        assert response.json_body["pagination_meta"]["page"] is None
    assert len(seen) == 37 and len(set(seen)) == 37
    assert {title for title, _ in seen} == expected


@pytest.mark.slow
def test_cursor_pages_of_a_feed(users, posts, database_url):
    ann, token = users.register_and_login("ann")
    bob = users.register("bob")
    carl = users.register("carl")
    users.post(f"/user-follow/{ann['id']}/bob", token=token)
    seed_posts(database_url, {ann["id"]: 7, bob["id"]: 9, carl["id"]: 11})
    ids: list[int] = []
    response = posts.get("/posts?user=ann&per_page=4", token=token)
    by_page_number = [
        p["id"]
        for page in range(1, 6)
        for p in posts.get(f"/posts?user=ann&per_page=4&page={page}", token=token).json_body["data"]["posts"]
    ]
    while True:
        ids += [p["id"] for p in response.json_body["data"]["posts"]]
        assert all(p["author"]["username"] in ("ann", "bob") for p in response.json_body["data"]["posts"])
        if response.json_body["next_cursor"] is None:
            break
        response = posts.get(f"/posts?user=ann&per_page=4&cursor={response.json_body['next_cursor']}", token=token)
    assert len(ids) == 16 and len(set(ids)) == 16
    assert ids == by_page_number


@pytest.mark.slow
@pytest.mark.parametrize("query", ["", "user=ann", "author=ann", "with_html=true"])
def test_a_page_costs_the_same_statements_at_any_size(users, posts, database_url, statements, query):
    ann, token = users.register_and_login("ann")
    bob = users.register("bob")
    users.post(f"/user-follow/{ann['id']}/bob", token=token)
    seed_posts(database_url, {ann["id"]: 60, bob["id"]: 60})
    engine = create_engine(database_url)
    with engine.begin() as conn:  # likes and comments on every post
        conn.execute(text("INSERT INTO likes (post_id, user_id) SELECT id, :b FROM posts"), {"b": bob["id"]})
        conn.execute(
            text("INSERT INTO comments (post_id, user_id, text) SELECT id, :a, 'c' FROM posts"), {"a": ann["id"]}
        )
    engine.dispose()
    counts = {}
    largest = 20 if "with_html" in query else 50  # a feed's page
    for per_page in (1, largest):
        statements.clear()
        response = posts.get(f"/posts?per_page={per_page}&{query}", token=token)
        assert len(response.json_body["data"]["posts"]) == per_page
        assert all(p["likes"] == 1 and p["comments_count"] == 1 for p in response.json_body["data"]["posts"])
        counts[per_page] = len(statements)
    assert counts[1] == counts[largest]
    assert counts[largest] <= 4, statements


def _plan_nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.slow
def test_the_feed_query_uses_indexes_not_a_scan_of_posts(users, database_url):
    store = app_module("post_api", "chalicelib.posts.store")
    ann, token = users.register_and_login("ann")
    engine = create_engine(database_url)
    with engine.begin() as conn:  # thirty more authors, straight in (sign-ups are rate-limited)
        others = [
            dict(row._mapping)
            for row in conn.execute(
                text(
                    "INSERT INTO users (username, email, email_canonical, password_hash) SELECT 'user' || g, "
                    "'user' || g || '@example.com', 'user' || g || '@example.com', 'unused' "
                    "FROM generate_series(0, 29) AS g RETURNING id, username"
                )
            )
        ]
    for other in others[:5]:
        users.post(f"/user-follow/{ann['id']}/{other['username']}", token=token)
    seed_posts(database_url, {u["id"]: 400 for u in others} | {ann["id"]: 50})
    cursor = store.Position(datetime(2026, 1, 3, tzinfo=UTC), 10**6)
    for statement, params in (
        store.page_query(ann["id"], 10, feed_of=ann["id"]),
        store.page_query(ann["id"], 10, feed_of=ann["id"], position=cursor),
        store.page_query(ann["id"], 10, offset=100, feed_of=ann["id"]),
        store.page_query(None, 10),
        store.page_query(None, 10, position=cursor),
        store.page_query(None, 10, author_id=others[0]["id"]),
    ):
        bound = statement.params(params)
        sql = str(bound.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        with engine.connect() as conn:
            plan = json.loads(json.dumps(conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar()))[0]["Plan"]
        scans = [(n["Node Type"], n.get("Relation Name")) for n in _plan_nodes(plan)]
        assert ("Seq Scan", "posts") not in scans, scans
        assert any(relation == "posts" and "Index" in node for node, relation in scans), scans
    engine.dispose()
