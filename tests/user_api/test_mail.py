"""The mail pipeline end to end: producers write the outbox and publish to the emulator's
SQS queue; the dev worker feeds user_api's SQS handler, which sends through SES."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from blog_shared import mail, tokens
from blog_shared.config import get_settings
from tests.helpers import PASSWORD, app_module, change_token


def outbox(database_url: str) -> list[dict[str, Any]]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM email_outbox ORDER BY id"))
        result = [dict(row._mapping) for row in rows]
    engine.dispose()
    return result


def reset_token(user: dict[str, Any], ttl: int = 60, version: int = 1) -> str:
    """A reset token as the mail carries it."""
    return tokens.issue(
        user["id"], tokens.PASSWORD_RESET, ttl, ver=version, em=tokens.email_fingerprint(user["email"])
    ).token


def keys(messages: list[dict[str, Any]]) -> list[str]:
    return sorted(m["key"] for m in messages)


@pytest.mark.slow
def test_registration_queues_one_welcome_mail_and_sends_it(users, mail_flow):
    ann = users.register("ann")
    assert mail_flow.queued() == [{"key": f"welcome:{ann['id']}", "kind": "welcome"}]
    mail_flow.deliver()
    [sent] = mail_flow.sent()
    assert sent.to == "ann <ann@example.com>"
    assert sent.subject == "Welcome to Serverless Blog!"
    assert "http://blog.test/login" in sent.links
    assert "<p>Welcome to Serverless Blog!" in sent.html
    assert "List-Unsubscribe" not in sent.headers  # not a notification
    assert mail_flow.queued() == []


@pytest.mark.slow
def test_a_follow_mails_the_followed_user_once(users, mail_flow, database_url):
    ann, ann_token = users.register_and_login("ann")
    bob = users.register("bob")
    mail_flow.deliver()
    seen = len(mail_flow.sent())
    # Following twice, unfollowing and following again is one action as far as mail goes.
    for method in ("post", "post", "delete", "post"):
        assert getattr(users, method)(f"/user-follow/{ann['id']}/bob", token=ann_token).status_code in (201, 204)
    assert mail_flow.queued() == [{"key": f"follow:{ann['id']}:{bob['id']}", "kind": "follow"}]
    mail_flow.deliver()
    [sent] = mail_flow.sent()[seen:]
    assert sent.to == "bob <bob@example.com>"
    assert sent.subject == "Someone Followed You!"
    assert "ann is now following you." in sent.text
    assert "http://blog.test/users/ann/posts" in sent.links
    # RFC 8058 one-click unsubscribe, on one line as SES got it (a folded URL would be
    # rewritten into encoded words no mail program reads as a link).
    assert sent.headers["List-Unsubscribe"].startswith("<http://blog.test/unsubscribe/")
    assert sent.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw_header = next(line for line in sent.raw.splitlines() if line.startswith("List-Unsubscribe:"))
    assert raw_header == f"List-Unsubscribe: {sent.headers['List-Unsubscribe']}"
    assert [row["sent_at"] is not None for row in outbox(database_url)] == [True, True, True]


@pytest.mark.slow
def test_a_message_delivered_twice_sends_one_mail(users, mail_flow):
    users.register("ann")
    [message] = mail_flow.sqs.receive_message(QueueUrl=mail_flow.queue_url, MaxNumberOfMessages=10)["Messages"]
    event = mail_flow.worker_event([message])
    assert mail_flow.handler(event, None) == {"batchItemFailures": []}
    assert mail_flow.handler(event, None) == {"batchItemFailures": []}  # SQS delivers at least once
    assert len(mail_flow.sent()) == 1


@pytest.mark.slow
def test_a_delivery_waits_for_one_in_progress_then_sends_nothing(users, mail_flow, database_url):
    """While one delivery holds the outbox row (sending its mail), a second delivery of the
    same message waits for it, then finds the mail sent."""
    import threading

    ann = users.register("ann")
    [message] = mail_flow.sqs.receive_message(QueueUrl=mail_flow.queue_url, MaxNumberOfMessages=10)["Messages"]
    engine = create_engine(database_url)
    answers: list[Any] = []
    with engine.connect() as first:
        # The first delivery, frozen between locking the row and marking it sent.
        first.execute(
            text("SELECT 1 FROM email_outbox WHERE idempotency_key = :k FOR UPDATE"), {"k": f"welcome:{ann['id']}"}
        )
        second = threading.Thread(
            target=lambda: answers.append(mail_flow.handler(mail_flow.worker_event([message]), None))
        )
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive(), "the second delivery did not wait for the row"
        first.execute(
            text("UPDATE email_outbox SET sent_at = now() WHERE idempotency_key = :k"), {"k": f"welcome:{ann['id']}"}
        )
        first.commit()
    second.join(timeout=10)
    engine.dispose()
    assert answers == [{"batchItemFailures": []}]
    assert mail_flow.sent() == []  # the first delivery "sent" it; the second sent nothing


@pytest.fixture
def flaky_ses(monkeypatch):
    """Make SES fail for chosen recipients: ``fail[address] = n`` fails n times (-1: always).
    Counts every attempt per address."""
    handlers = app_module("user_api", "chalicelib.mail.handlers")
    real_send = handlers.send
    fail: dict[str, int] = {}
    attempts: dict[str, int] = {}

    def send(message: Any) -> None:
        address = message["To"].addresses[0].addr_spec
        attempts[address] = attempts.get(address, 0) + 1
        if fail.get(address, 0) != 0:
            fail[address] -= 1
            raise RuntimeError("SES is having a bad day")
        real_send(message)

    monkeypatch.setattr(handlers, "send", send)
    return fail, attempts


@pytest.mark.slow
def test_a_send_that_fails_twice_then_succeeds_delivers_one_mail(users, mail_flow, flaky_ses, database_url):
    fail, attempts = flaky_ses
    fail["ann@example.com"] = 2
    users.register("ann")
    mail_flow.deliver()
    assert attempts["ann@example.com"] == 3
    assert [m.to for m in mail_flow.sent()] == ["ann <ann@example.com>"]
    assert mail_flow.queued() == [] and mail_flow.queued(mail_flow.dlq_url) == []
    [row] = outbox(database_url)
    assert row["sent_at"] is not None and row["failed_attempts"] == 2
    assert row["last_error"] == "RuntimeError: SES is having a bad day"


@pytest.mark.slow
def test_a_send_that_always_fails_ends_in_the_dead_letter_queue_and_the_rest_is_delivered(
    users, mail_flow, flaky_ses, database_url
):
    fail, attempts = flaky_ses
    fail["bad@example.com"] = -1
    for name in ("ann", "bad", "cat"):
        users.register(name)
    mail_flow.deliver(max_polls=40)
    # One batch: the failed message alone is retried, and after 5 receives it is dead-lettered.
    assert attempts == {"ann@example.com": 1, "bad@example.com": 5, "cat@example.com": 1}
    assert sorted(m.to for m in mail_flow.sent()) == ["ann <ann@example.com>", "cat <cat@example.com>"]
    [dead] = mail_flow.queued(mail_flow.dlq_url)
    assert dead["kind"] == "welcome" and dead["key"].startswith("welcome:")
    assert mail_flow.queued() == []
    # The row shows why; the sweeper leaves it alone (SQS tried it: it is not lost).
    assert [(r["sent_at"] is None, r["failed_attempts"]) for r in outbox(database_url)] == [
        (False, 0),
        (True, 5),
        (False, 0),
    ]
    assert mail.republish_stalled(lost_after_seconds=0) == 0


@pytest.mark.slow
def test_a_malformed_message_fails_alone(users, mail_flow):
    users.register("ann")
    mail_flow.sqs.send_message(QueueUrl=mail_flow.queue_url, MessageBody="not json")
    messages = mail_flow.sqs.receive_message(QueueUrl=mail_flow.queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2
    answer = mail_flow.handler(mail_flow.worker_event(messages), None)
    bad = next(m["MessageId"] for m in messages if m["Body"] == "not json")
    assert answer == {"batchItemFailures": [{"itemIdentifier": bad}]}
    assert len(mail_flow.sent()) == 1


@pytest.fixture
def aws_settings(monkeypatch):
    """Change AWS settings for one test; the cached settings and clients are reset after it."""
    from blog_shared import aws

    def change(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reset()

    def reset() -> None:
        get_settings.cache_clear()
        aws.client.cache_clear()
        mail.queue_url.cache_clear()
        mail._queue_paused_until = 0.0

    yield change
    monkeypatch.undo()
    reset()


@pytest.mark.slow
def test_the_action_succeeds_while_the_queue_is_down_and_the_sweeper_sends_it_later(
    users, mail_flow, aws_settings, database_url
):
    aws_settings(EMAIL_QUEUE_URL=mail_flow.queue_url + "-gone")
    ann = users.register("ann")  # still a 201
    assert mail_flow.queued() == []
    [row] = outbox(database_url)
    assert row["sent_at"] is None and row["publish_failed_at"] is not None  # flagged for the sweeper

    aws_settings(EMAIL_QUEUE_URL=mail_flow.queue_url)
    assert mail.republish_stalled() == 1
    assert mail.republish_stalled() == 0  # once only
    assert mail_flow.queued() == [{"key": f"welcome:{ann['id']}", "kind": "welcome"}]
    mail_flow.deliver()
    assert len(mail_flow.sent()) == 1


@pytest.mark.slow
def test_a_queue_that_hangs_costs_one_short_wait_then_none(users, mail_flow, aws_settings, database_url):
    """SQS accepting connections but never answering: the first request gives up after one
    short attempt, the ones after it skip SQS for a while; all succeed, all mail is flagged."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    connections: list[socket.socket] = []
    listener.settimeout(0.1)

    def accept_all() -> None:
        while listener.fileno() != -1:
            try:
                connections.append(listener.accept()[0])
            except OSError:
                continue

    import threading

    threading.Thread(target=accept_all, daemon=True).start()
    port = listener.getsockname()[1]
    aws_settings(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    try:
        for name in ("ann", "bob", "cat"):
            users.register(name)  # each a 201
        assert len(connections) == 1  # one attempt, then the pause
    finally:
        listener.close()
        for connection in connections:
            connection.close()
    assert [row["publish_failed_at"] is not None for row in outbox(database_url)] == [True, True, True]


@pytest.mark.slow
def test_the_schedule_queues_mail_whose_message_was_lost(user_api_app, users, mail_flow, database_url):
    from devtools.worker import schedule_event

    ann = users.register("ann")
    mail_flow.empty(mail_flow.queue_url)  # the message is lost: nobody will deliver it
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE email_outbox SET created_at = now() - interval '19 minutes'"))
    user_api_app.handler_map["republish_stalled_mail"](schedule_event(), None)
    assert mail_flow.queued() == []  # within SQS's retry span it may still be on its way
    with engine.begin() as conn:
        conn.execute(text("UPDATE email_outbox SET created_at = now() - interval '21 minutes'"))
    engine.dispose()
    user_api_app.handler_map["republish_stalled_mail"](schedule_event(), None)
    assert mail_flow.queued() == [{"key": f"welcome:{ann['id']}", "kind": "welcome"}]
    mail_flow.deliver()
    assert len(mail_flow.sent()) == 1


def unsubscribe_link(sent: Any) -> str:
    return sent.headers["List-Unsubscribe"].strip("<>")


@pytest.mark.slow
def test_unsubscribed_users_get_no_notification_mail(users, mail_flow, database_url):
    ann, ann_token = users.register_and_login("ann")
    bob, bob_token = users.register_and_login("bob")
    cat, cat_token = users.register_and_login("cat")
    dan, dan_token = users.register_and_login("dan")
    users.post(f"/user-follow/{ann['id']}/bob", token=ann_token)
    mail_flow.deliver()
    [follow_mail] = [m for m in mail_flow.sent() if m.subject == "Someone Followed You!"]
    assert follow_mail.to == "bob <bob@example.com>"
    token = unsubscribe_link(follow_mail).rsplit("/", 1)[1]

    # The site first asks whose link it is (that changes nothing), then unsubscribes.
    asked = users.post("/email-preferences/unsubscribe/preview", {"token": token})
    assert asked.status_code == 200 and asked.json_body["data"] == {"username": "bob"}
    assert users.get(f"/users/{bob['id']}", token=bob_token).json_body["data"]["email_notifications"] is True
    answer = users.post("/email-preferences/unsubscribe", {"token": token})
    assert answer.status_code == 200
    assert answer.json_body["data"] == {"username": "bob", "email_notifications": False}
    assert users.get(f"/users/{bob['id']}", token=bob_token).json_body["data"]["email_notifications"] is False
    assert "email_notifications" not in users.get(f"/users/{bob['id']}").json_body["data"]  # private

    # The producer honours it: nothing is queued.
    users.post(f"/user-follow/{cat['id']}/bob", token=cat_token)
    assert mail_flow.queued() == []

    # Turned on again, then off while a mail waits: the consumer drops that mail.
    assert users.put(f"/users/{bob['id']}", {"email_notifications": True}, token=bob_token).status_code == 200
    users.post(f"/user-follow/{dan['id']}/bob", token=dan_token)
    assert mail_flow.queued() == [{"key": f"follow:{dan['id']}:{bob['id']}", "kind": "follow"}]
    users.post("/email-preferences/unsubscribe", {"token": token})
    seen = len(mail_flow.sent())
    mail_flow.deliver()
    assert mail_flow.sent()[seen:] == []
    assert all(row["sent_at"] is not None for row in outbox(database_url))  # dropped, not retried


def test_unsubscribe_refuses_bad_tokens(users):
    ann, ann_token = users.register_and_login("ann")
    for token in ("nonsense", ann_token, reset_token(ann)):
        for path in ("/email-preferences/unsubscribe", "/email-preferences/unsubscribe/preview"):
            answer = users.post(path, {"token": token})
            assert answer.status_code == 400
            assert answer.json_body["message"] == "This unsubscribe link is not valid."
    assert users.post("/email-preferences/unsubscribe", {}).status_code == 400


@pytest.mark.slow
def test_message_bodies_are_small_json(users, mail_flow):
    users.register("ann")
    [message] = mail_flow.sqs.receive_message(QueueUrl=mail_flow.queue_url)["Messages"]
    assert set(json.loads(message["Body"])) == {"key", "kind"}


@pytest.mark.slow
def test_a_reset_request_answers_the_same_for_any_email_and_mails_once(users, mail_flow):
    ann = users.register("ann")
    mail_flow.empty(mail_flow.queue_url)
    unknown = users.post("/password-reset/request", {"email": "nobody@example.com"})
    known = users.post("/password-reset/request", {"email": "ANN@example.com "})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json_body == known.json_body
    again = users.post("/password-reset/request", {"email": "ann@example.com"})  # within 2 minutes: no new mail
    assert again.status_code == 202
    [message] = mail_flow.queued()
    assert message["kind"] == "password_reset" and message["key"].startswith(f"reset:{ann['id']}:")
    assert users.post("/password-reset/request", {"email": "not an email"}).status_code == 400

    mail_flow.deliver()
    [sent] = mail_flow.sent()  # the welcome mail was emptied from the queue above
    [link] = [link for link in sent.links if "/reset_password/" in link]
    token = link.rsplit("/", 1)[1]
    assert "List-Unsubscribe" not in sent.headers
    assert users.post("/password-reset/check", {"token": token}).json_body["data"] == {"valid": True}
    # A reset token is not an access token, nor the other way round.
    assert users.get(f"/users/{ann['id']}", token=token).status_code == 401
    access = users.login("ann@example.com")
    assert users.post("/password-reset/check", {"token": access}).status_code == 400

    short = users.post("/password-reset", {"token": token, "password": "short"})
    assert short.status_code == 400 and "password" in short.json_body["errors"]
    done = users.post("/password-reset", {"token": token, "password": "a brand new passphrase"})
    assert done.status_code == 200 and done.json_body["data"]["username"] == "ann"
    assert users.get(f"/users/{ann['id']}", token=access).status_code == 401  # sessions ended
    assert users.post("/password-reset", {"token": token, "password": "yet another passphrase"}).status_code == 400
    assert users.login("ann@example.com", "a brand new passphrase")


def test_a_reset_link_stops_working_when_the_email_changes(users):
    ann, ann_token = users.register_and_login("ann")
    token = reset_token(ann)
    assert users.post("/password-reset/check", {"token": token}).status_code == 200
    change = users.put(
        f"/users/{ann['id']}", {"email": "ann@elsewhere.example", "current_password": PASSWORD}, token=ann_token
    )
    assert users.post("/password-reset/check", {"token": token}).status_code == 200  # not changed yet
    assert users.post("/email-confirmation", {"token": change_token(ann, change)}).status_code == 200
    assert users.post("/password-reset/check", {"token": token}).status_code == 400
    assert users.post("/password-reset", {"token": token, "password": "a brand new passphrase"}).status_code == 400


@pytest.mark.slow
def test_mailboxes_mail_cannot_reach_are_refused_and_international_domains_work(users, mail_flow):
    # A non-ASCII mailbox name (SES sends none), an IP literal, a special-use domain, a NUL.
    for email in ("jöhn@example.com", "jo@[192.0.2.1]", "jo@example.test", "jo\u0000@example.com"):
        refused = users.post("/users", {"username": "jo", "email": email, "password": PASSWORD})
        assert refused.status_code == 400, email
    oauth = users.post(
        "/oauth-users",
        {"provider": "github", "email": "jöhn@example.com", "username_hint": "jo"},
        token=tokens.issue("web_frontend", tokens.SERVICE, 60).token,
    )
    assert oauth.status_code == 400 and oauth.json_body["errors"]["email"]
    # IDNA 2008: "faß.de" is its own domain (IDNA 2003 turned it into "fass.de").
    users.register("ann", "ann@exämple.com")
    users.register("jo", "jo@faß.de")
    mail_flow.deliver()
    raw = " ".join(sent.raw for sent in mail_flow.sent())
    assert "ann@xn--exmple-cua.com" in raw and "jo@xn--fa-hia.de" in raw


def test_an_address_is_one_account_however_it_is_written(users):
    """Python and SQL compare the same canonical form (the C collation leaves "Ä" as it is)."""
    users.register("ann", "x@ÄB.de")
    for spelling in ("x@äb.de", "X@ÄB.DE", " x@Äb.de "):
        assert users.post("/user-auth", {"email": spelling, "password": PASSWORD}).status_code == 200, spelling
    taken = users.post("/users", {"username": "bob", "email": "X@äB.DE", "password": PASSWORD})
    assert taken.status_code == 400 and taken.json_body["errors"]["email"] == ["This email has been taken."]
