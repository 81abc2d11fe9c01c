"""Drafts and scheduled posts: their author's alone until they go live; a scheduled post goes
live by itself at its time (the queries decide, no job); the minute chore then counts it."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest

from devtools.worker import schedule_event
from tests.helpers import write_post


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def titles(answer) -> list[str]:
    assert answer.status_code == 200, answer.json_body
    return [post["title"] for post in answer.json_body["data"]["posts"]]


def total(answer) -> int:
    return answer.json_body["pagination_meta"]["total"]


def test_a_draft_is_seen_by_its_author_alone(users, posts):
    _, ann = users.register_and_login("ann")
    _, bob = users.register_and_login("bob")
    write_post(posts, ann, title="Public")
    draft = write_post(posts, ann, title="Secret plans", content="secret words", tags=["hidden"], status="draft")
    assert (draft["status"], draft["publish_at"]) == ("draft", None)

    # Nowhere in public: lists, the author's page, the tag, search, the counts.
    for token in (None, bob, ann):
        assert titles(posts.get("/posts", token=token)) == ["Public"]
        assert titles(posts.get("/posts?author=ann", token=token)) == ["Public"]
        assert titles(posts.get("/posts?tag=hidden", token=token)) == []
        assert titles(posts.get("/posts?q=secret", token=token)) == []
    assert total(posts.get("/posts")) == 1
    assert posts.get("/tags").json_body["data"]["tags"] == []

    # By its id: the author reads it, anyone else finds nothing (404, not 403).
    post_path = f"/posts/{draft['id']}"
    assert posts.get(post_path, token=ann).json_body["data"]["status"] == "draft"
    for token in (None, bob):
        assert posts.get(post_path, token=token).status_code == 404
        assert posts.get(f"{post_path}/comments", token=token).status_code == 404
    assert posts.post(f"{post_path}/likes", token=bob).status_code == 404
    assert posts.post(f"{post_path}/comments", {"text": "found it"}, token=bob).status_code == 404
    assert posts.put(post_path, {"title": "Mine now"}, token=bob).status_code == 404
    assert posts.delete(post_path, token=bob).status_code == 404

    # The author's own list of drafts, and no one else's.
    mine = posts.get("/posts?author=ann&status=draft", token=ann)
    assert titles(mine) == ["Secret plans"] and total(mine) == 1
    assert posts.get("/posts?author=ann&status=draft", token=bob).status_code == 403
    assert posts.get("/posts?author=ann&status=draft").status_code == 401
    assert posts.get("/posts?status=draft", token=ann).status_code == 400  # with author only
    assert posts.get("/posts?author=ann&status=hidden", token=ann).status_code == 400


def test_publishing_a_draft_makes_it_public_now_and_counts_it(users, posts):
    _, ann = users.register_and_login("ann")
    draft = write_post(posts, ann, title="Draft", tags=["news"], status="draft")
    write_post(posts, ann, title="Older")
    published = posts.put(f"/posts/{draft['id']}", {"status": "published"}, token=ann).json_body["data"]
    assert published["status"] == "published"
    assert published["date_posted"] > draft["date_posted"]  # it went live when published
    assert titles(posts.get("/posts")) == ["Draft", "Older"]
    assert total(posts.get("/posts")) == 2
    assert posts.get("/tags").json_body["data"]["tags"] == [{"name": "news", "post_count": 1}]

    # Back to a draft: out of the lists and the counts; its tag is forgotten.
    assert posts.put(f"/posts/{draft['id']}", {"status": "draft"}, token=ann).status_code == 200
    assert titles(posts.get("/posts")) == ["Older"] and total(posts.get("/posts")) == 1
    assert posts.get("/tags").json_body["data"]["tags"] == []
    # Changing a draft's tags leaves the counts alone; deleting it too.
    posts.put(f"/posts/{draft['id']}", {"tags": ["other"]}, token=ann)
    assert posts.get("/tags").json_body["data"]["tags"] == []
    assert posts.delete(f"/posts/{draft['id']}", token=ann).status_code == 204
    assert total(posts.get("/posts")) == 1


@pytest.mark.slow
def test_a_scheduled_post_goes_live_by_itself(users, posts, user_api_app):
    _, ann = users.register_and_login("ann")
    _, bob = users.register_and_login("bob")
    write_post(posts, ann, title="Now")
    publish_at = later(seconds=3)
    scheduled = write_post(
        posts, ann, title="Tomorrow's news", tags=["soon"], status="scheduled", publish_at=publish_at
    )
    assert scheduled["status"] == "scheduled"
    assert datetime.fromisoformat(scheduled["publish_at"]) == datetime.fromisoformat(publish_at)
    assert titles(posts.get("/posts", token=bob)) == ["Now"]
    assert posts.get(f"/posts/{scheduled['id']}", token=bob).status_code == 404
    assert titles(posts.get("/posts?author=ann&status=scheduled", token=ann)) == ["Tomorrow's news"]
    assert titles(posts.get("/posts?author=ann&status=draft", token=ann)) == []

    # No job runs: the time comes, and every query shows it.
    deadline = time.monotonic() + 15
    while titles(posts.get("/posts")) != ["Tomorrow's news", "Now"]:
        assert time.monotonic() < deadline, "the scheduled post did not appear"
        time.sleep(0.5)
    live = posts.get(f"/posts/{scheduled['id']}", token=bob).json_body["data"]
    assert (live["status"], live["publish_at"]) == ("published", None)
    assert titles(posts.get("/posts?tag=soon")) == ["Tomorrow's news"]
    assert titles(posts.get("/posts?q=news")) == ["Tomorrow's news"]
    assert titles(posts.get("/posts?author=ann&status=scheduled", token=ann)) == []

    # The counts follow once the minute chore has run (it counts what went live).
    assert total(posts.get("/posts")) == 1
    user_api_app.handler_map["republish_stalled_mail"](schedule_event(), None)
    assert total(posts.get("/posts")) == 2
    assert total(posts.get("/posts?author=ann")) == 2
    assert posts.get("/tags").json_body["data"]["tags"] == [{"name": "soon", "post_count": 1}]
    user_api_app.handler_map["republish_stalled_mail"](schedule_event(), None)  # counted once
    assert posts.get("/tags").json_body["data"]["tags"] == [{"name": "soon", "post_count": 1}]


def test_a_schedule_can_be_moved_and_taken_back(users, posts):
    _, ann = users.register_and_login("ann")
    post = write_post(posts, ann, title="Live")
    # A live post scheduled again leaves the public lists and the counts until then.
    moved = posts.put(f"/posts/{post['id']}", {"status": "scheduled", "publish_at": later(days=2)}, token=ann)
    assert moved.json_body["data"]["status"] == "scheduled"
    assert titles(posts.get("/posts")) == [] and total(posts.get("/posts")) == 0
    # Published at once instead.
    assert posts.put(f"/posts/{post['id']}", {"status": "published"}, token=ann).status_code == 200
    assert titles(posts.get("/posts")) == ["Live"] and total(posts.get("/posts")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"status": "scheduled"},
        {"status": "scheduled", "publish_at": "2020-01-01T00:00:00+00:00"},
        {"status": "scheduled", "publish_at": "2999-01-01T00:00:00+00:00"},
        {"status": "scheduled", "publish_at": "2027-06-01T12:00:00"},  # no time zone
        {"status": "scheduled", "publish_at": "tomorrow"},
        {"status": "scheduled", "publish_at": 1_800_000_000},
        {"status": "published", "publish_at": "2027-06-01T12:00:00+00:00"},
        {"publish_at": "2027-06-01T12:00:00+00:00"},
        {"status": "hidden"},
        {"status": None},
    ],
)
def test_a_bad_status_or_schedule_is_refused(users, posts, body):
    _, ann = users.register_and_login("ann")
    answer = posts.post("/posts", {"title": "t", "content": "c", **body}, token=ann)
    assert answer.status_code == 400, answer.json_body
    assert set(answer.json_body["errors"]) & {"status", "publish_at"}, answer.json_body
    assert posts.get("/posts?author=ann&status=draft", token=ann).json_body["data"]["posts"] == []
    assert posts.get("/posts?author=ann&status=scheduled", token=ann).json_body["data"]["posts"] == []
    post = write_post(posts, ann)
    answer = posts.put(f"/posts/{post['id']}", body, token=ann)
    assert answer.status_code == 400, answer.json_body
    assert posts.get(f"/posts/{post['id']}").json_body["data"]["status"] == "published"


@pytest.mark.slow
def test_the_chore_and_writers_change_counts_side_by_side_without_deadlock(users, posts, user_api_app, database_url):
    """The chore counts many authors in one transaction while writers count theirs: all take
    the counts lock before any users row, so neither waits on the other in a circle."""
    import threading

    from sqlalchemy import create_engine, text

    writers = [users.register_and_login(name)[1] for name in ("ann", "bob", "carol")]
    for token in writers:
        for number in range(8):
            body = {"tags": ["shared", f"t{number}"], "status": "scheduled", "publish_at": later(seconds=2)}
            write_post(posts, token, title=f"Scheduled {number}", **body)
    time.sleep(2.5)  # all due now, none counted yet
    errors: list[object] = []

    def write(token: str) -> None:
        for number in range(8):
            answer = posts.post("/posts", {"title": f"Now {number}", "content": "c", "tags": ["shared"]}, token=token)
            if answer.status_code != 201:
                errors.append(answer.json_body)

    def chore() -> None:
        for _ in range(6):
            try:
                user_api_app.handler_map["republish_stalled_mail"](schedule_event(), None)
            except Exception as error:  # noqa: BLE001 - a deadlock victim: the test's failure
                errors.append(repr(error))

    threads = [threading.Thread(target=write, args=(token,)) for token in writers]
    threads.append(threading.Thread(target=chore))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    user_api_app.handler_map["republish_stalled_mail"](schedule_event(), None)
    assert errors == []
    engine = create_engine(database_url)
    with engine.connect() as conn:
        tags = dict(conn.execute(text("SELECT name, post_count FROM tags")).all())
        live = dict(conn.execute(text("SELECT tag, count(*) FROM posts, unnest(tags) AS tag GROUP BY tag")).all())
        per_user = conn.execute(
            text("SELECT count(*) FROM users WHERE post_count <> (SELECT count(*) FROM posts WHERE user_id = users.id)")
        ).scalar_one()
    engine.dispose()
    assert tags == live and tags["shared"] == 48 and per_user == 0


def test_every_count_change_takes_the_counts_lock_before_a_users_row(users, posts, user_api_app, statements):
    """The order that keeps the chore (many authors in one transaction) and writers from
    deadlocking: the advisory lock first, then users rows, in every transaction."""
    _, ann = users.register_and_login("ann")
    _, bob = users.register_and_login("bob")
    write_post(posts, bob, title="Due", tags=["x"], status="scheduled", publish_at=later(seconds=1))
    time.sleep(1.2)
    statements.clear()
    post = write_post(posts, ann, title="Counted now", tags=["x"])  # published: counted at once
    posts.put(f"/posts/{post['id']}", {"status": "draft"}, token=ann)
    user_api_app.handler_map["republish_stalled_mail"](schedule_event(), None)  # counts bob's
    counting = [s for s in statements if "pg_advisory_xact_lock" in s or s.startswith("UPDATE users")]
    assert len(counting) >= 6, statements
    for before, after in itertools.pairwise(counting):
        if after.startswith("UPDATE users"):
            assert "pg_advisory_xact_lock" in before or before.startswith("UPDATE users"), counting
    assert "pg_advisory_xact_lock" in counting[0]


def test_a_drafts_comments_are_not_found_by_anyone_else(users, posts):
    """Not even by deleting one: a 403 would tell that the hidden post exists."""
    _, ann = users.register_and_login("ann")
    _, bob = users.register_and_login("bob")
    post = write_post(posts, ann, title="Shown, then hidden")
    comment = posts.post(f"/posts/{post['id']}/comments", {"text": "note"}, token=ann).json_body["data"]
    bobs = posts.post(f"/posts/{post['id']}/comments", {"text": "mine"}, token=bob).json_body["data"]
    posts.put(f"/posts/{post['id']}", {"status": "draft"}, token=ann)
    assert posts.delete(f"/posts/{post['id']}/comments/{comment['id']}", token=bob).status_code == 404
    assert posts.delete(f"/posts/{post['id']}/comments/{bobs['id']}", token=bob).status_code == 404
    assert posts.get(f"/posts/{post['id']}/comments", token=ann).status_code == 200  # its author pages them
    assert posts.delete(f"/posts/{post['id']}/comments/{bobs['id']}", token=ann).status_code == 204


@pytest.mark.slow
def test_a_feed_changes_when_a_post_edited_before_it_went_live_appears(users, posts):
    _, ann = users.register_and_login("ann")
    write_post(posts, ann, title="Live")
    scheduled = write_post(posts, ann, title="Soon", status="scheduled", publish_at=later(seconds=2))
    posts.put(f"/posts/{scheduled['id']}", {"content": "Edited before it went live"}, token=ann)
    before = posts.get("/posts?with_html=true&per_page=20").json_body["last_modified"]
    time.sleep(2.2)
    after = posts.get("/posts?with_html=true&per_page=20").json_body
    assert [p["title"] for p in after["data"]["posts"]] == ["Soon", "Live"]
    assert after["last_modified"] > before  # its publication, later than any write
