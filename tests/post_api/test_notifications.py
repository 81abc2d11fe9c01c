"""Likes and comments mail the post's author, through the queue and user_api's consumer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import write_post

# Each test waits on the mail pipeline (the emulator's SQS and SES, through the worker).
pytestmark = pytest.mark.slow


def test_a_like_by_someone_else_mails_the_author_once(users, posts, mail_flow):
    _, ann_token = users.register_and_login("ann")
    bob, bob_token = users.register_and_login("bob")
    post = write_post(posts, ann_token)
    mail_flow.deliver()
    seen = len(mail_flow.sent())

    assert posts.post(f"/posts/{post['id']}/likes", token=ann_token).status_code == 201  # own like: no mail
    assert mail_flow.queued() == []
    # A repeated like, and liking again after unliking, are not new actions.
    for method in ("post", "post", "delete", "post"):
        assert getattr(posts, method)(f"/posts/{post['id']}/likes", token=bob_token).status_code in (201, 204)
    assert mail_flow.queued() == [{"key": f"like:{post['id']}:{bob['id']}", "kind": "like"}]

    mail_flow.deliver()
    [sent] = mail_flow.sent()[seen:]
    assert sent.to == "ann <ann@example.com>"
    assert sent.subject == "Someone Liked Your Post!"
    assert f'bob liked your post "{post["title"]}".' in sent.text
    assert f"http://blog.test/posts/{post['id']}/hello" in sent.links  # the canonical address
    assert sent.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_comment_by_someone_else_mails_the_author(users, posts, mail_flow):
    _, ann_token = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    post = write_post(posts, ann_token)
    mail_flow.deliver()
    seen = len(mail_flow.sent())

    posts.post(f"/posts/{post['id']}/comments", {"text": "My own words"}, token=ann_token)
    assert mail_flow.queued() == []
    answer = posts.post(f"/posts/{post['id']}/comments", {"text": "Nice <b>post</b>"}, token=bob_token)
    comment_id = answer.json_body["data"]["id"]
    posts.post(f"/posts/{post['id']}/comments", {"text": "And again"}, token=bob_token)
    assert sorted(m["key"] for m in mail_flow.queued()) == sorted(
        [f"comment:{comment_id}", f"comment:{comment_id + 1}"]
    )

    mail_flow.deliver()
    sent = mail_flow.sent()[seen:]
    assert [m.subject for m in sent] == ["Someone Commented on Your Post!"] * 2
    first = next(m for m in sent if "Nice <b>post</b>" in m.text)
    assert "Nice &lt;b&gt;post&lt;/b&gt;" in first.html  # escaped in the HTML part


def test_no_mail_for_a_post_deleted_before_the_mail_went_out(users, posts, mail_flow, database_url):
    _, ann_token = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    post = write_post(posts, ann_token)
    mail_flow.deliver()
    seen = len(mail_flow.sent())
    posts.post(f"/posts/{post['id']}/likes", token=bob_token)
    assert [m["kind"] for m in mail_flow.queued()] == ["like"]
    assert posts.delete(f"/posts/{post['id']}", token=ann_token).status_code == 204
    mail_flow.deliver()
    assert mail_flow.sent()[seen:] == []
    assert mail_flow.queued() == []
    engine = create_engine(database_url)
    with engine.connect() as conn:
        sent_at = conn.execute(text("SELECT sent_at FROM email_outbox WHERE kind = 'like'")).scalar_one()
    engine.dispose()
    assert sent_at is not None  # handled (dropped), not left to be retried


def run_minute_chore(user_api_app) -> None:
    from devtools.worker import schedule_event

    user_api_app.handler_map["republish_stalled_mail"](schedule_event(), None)


def test_followers_are_mailed_once_when_a_post_goes_live(users, posts, mail_flow, user_api_app):
    _, ann_token = users.register_and_login("ann")
    bob, bob_token = users.register_and_login("bob")
    carol, carol_token = users.register_and_login("carol")
    for follower, token in ((bob, bob_token), (carol, carol_token)):
        assert users.post(f"/user-follow/{follower['id']}/ann", token=token).status_code == 201
    assert users.put(f"/users/{carol['id']}", {"email_notifications": False}, token=carol_token).status_code == 200
    mail_flow.deliver()
    seen = len(mail_flow.sent())

    # A draft and a post scheduled for later are announced to no one.
    draft = write_post(posts, ann_token, title="Not yet", status="draft")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    write_post(posts, ann_token, title="Later", status="scheduled", publish_at=tomorrow)
    run_minute_chore(user_api_app)
    assert mail_flow.queued() == []

    # Published: the chore mails the followers who take notifications, once.
    assert posts.put(f"/posts/{draft['id']}", {"status": "published"}, token=ann_token).status_code == 200
    assert mail_flow.queued() == []  # not from the writer's request
    run_minute_chore(user_api_app)
    run_minute_chore(user_api_app)
    assert mail_flow.queued() == [{"key": f"new_post:{draft['id']}:{bob['id']}", "kind": "new_post"}]
    mail_flow.deliver()
    [sent] = mail_flow.sent()[seen:]
    assert sent.to == "bob <bob@example.com>"
    assert sent.subject == "A New Post From Someone You Follow"
    assert 'ann published "Not yet".' in sent.text
    assert f"http://blog.test/posts/{draft['id']}/not-yet" in sent.links
    assert sent.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Taken back to draft and published again: not announced twice.
    posts.put(f"/posts/{draft['id']}", {"status": "draft"}, token=ann_token)
    posts.put(f"/posts/{draft['id']}", {"status": "published"}, token=ann_token)
    run_minute_chore(user_api_app)
    assert mail_flow.queued() == []


def test_no_mail_for_a_post_taken_back_before_its_mail_went_out(users, posts, mail_flow, user_api_app):
    _, ann_token = users.register_and_login("ann")
    bob, bob_token = users.register_and_login("bob")
    assert users.post(f"/user-follow/{bob['id']}/ann", token=bob_token).status_code == 201
    mail_flow.deliver()
    seen = len(mail_flow.sent())
    post = write_post(posts, ann_token, title="Oops")
    run_minute_chore(user_api_app)
    assert [m["kind"] for m in mail_flow.queued()] == ["new_post"]
    posts.put(f"/posts/{post['id']}", {"status": "draft"}, token=ann_token)
    mail_flow.deliver()
    assert mail_flow.sent()[seen:] == []


def test_a_large_following_is_queued_by_the_sweeper_in_the_same_run(users, posts, mail_flow, user_api_app, monkeypatch):
    from blog_shared import mail

    monkeypatch.setattr(mail, "FAN_OUT_AT_ONCE", 1)
    _, ann_token = users.register_and_login("ann")
    followers = [users.register_and_login(name) for name in ("bob", "carol", "dave")]
    for follower, token in followers:
        assert users.post(f"/user-follow/{follower['id']}/ann", token=token).status_code == 201
    mail_flow.deliver()
    seen = len(mail_flow.sent())
    post = write_post(posts, ann_token, title="For everyone")
    run_minute_chore(user_api_app)
    expected = sorted(f"new_post:{post['id']}:{follower['id']}" for follower, _ in followers)
    assert sorted(m["key"] for m in mail_flow.queued()) == expected
    mail_flow.deliver()
    assert sorted(m.to for m in mail_flow.sent()[seen:]) == [
        "bob <bob@example.com>",
        "carol <carol@example.com>",
        "dave <dave@example.com>",
    ]
