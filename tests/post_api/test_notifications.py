"""Likes and comments mail the post's author, through the queue and user_api's consumer."""

from __future__ import annotations

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
    assert f"http://blog.test/posts/{post['id']}" in sent.links
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
