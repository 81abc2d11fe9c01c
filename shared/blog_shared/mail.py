"""The mail producer: the one way an app asks for a mail to be sent.

``enqueue`` writes the mail into the ``email_outbox`` table inside the caller's transaction
(so a mail exists exactly when its action committed) and, once that transaction commits,
puts a small JSON message ``{"key", "kind"}`` on the SQS queue. The request never waits for
the mail itself. If the queue cannot be reached the action still succeeds: the row is
flagged and ``republish_stalled`` (user_api's scheduled function, every minute; the dev
worker locally) puts it on the queue again. user_api's consumer sends each key once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Boolean, Float, Integer, String, Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from . import aws
from .config import EMAIL_QUEUE_NAME, get_settings
from .db import after_commit, transaction
from .models import Follow, OutboxMail, User

log = logging.getLogger("blog.mail")

WELCOME = "welcome"
PASSWORD_RESET = "password_reset"
LIKE = "like"
COMMENT = "comment"
FOLLOW = "follow"
NEW_POST = "new_post"  # to each follower of a post's author, when the post goes live
CONFIRM_EMAIL = "confirm_email"  # the account's address, again ("send again")
EMAIL_CHANGE = "email_change"  # to the new address: confirm it (data: to)
EMAIL_CHANGED = "email_changed"  # to the old address: it was changed, undo link (data: to)
# Mails about other people's actions: only to users who have not unsubscribed.
NOTIFICATIONS = frozenset({LIKE, COMMENT, FOLLOW, NEW_POST})
KINDS = NOTIFICATIONS | {WELCOME, PASSWORD_RESET, CONFIRM_EMAIL, EMAIL_CHANGE, EMAIL_CHANGED}

_PENDING = "mail_pending"


def _enqueue_statement() -> Any:
    recipient = bindparam("recipient_id", type_=Integer)
    source = select(
        bindparam("key", type_=String),
        bindparam("kind", type_=String),
        User.id,
        bindparam("data", type_=JSONB),
    ).where(User.id == recipient, or_(~bindparam("notification", type_=Boolean), User.email_notifications))
    table = cast(Table, OutboxMail.__table__)  # a Core insert: the ORM would read the parameters as rows
    return (
        insert(table)
        .from_select(["idempotency_key", "kind", "recipient_id", "data"], source)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    )


_ENQUEUE = _enqueue_statement()  # built once per container


def enqueue(db: Session, kind: str, key: str, recipient_id: int, **data: Any) -> bool:
    """Ask for a ``kind`` mail to ``recipient_id``, identified by ``key`` (one mail per key,
    ever). Notifications are skipped for users who unsubscribed. Returns True when queued."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    row = db.execute(
        _ENQUEUE,
        {"key": key, "kind": kind, "recipient_id": recipient_id, "data": data, "notification": kind in NOTIFICATIONS},
    ).first()
    if row is None:
        return False
    _publish_after(db, [{"key": key, "kind": kind}])
    return True


def _publish_after(db: Session, messages: list[dict[str, str]]) -> None:
    """Queue the messages once the transaction commits (all of its mail in one go)."""
    pending: list[dict[str, str]] = db.info.setdefault(_PENDING, [])
    if not pending:
        after_commit(db, lambda: _publish_after_commit(pending))
    pending.extend(messages)


def _to_followers_statement() -> Any:
    table = cast(Table, OutboxMail.__table__)
    key = bindparam("key", type_=String)
    source = (
        select(
            key.concat(":").concat(User.id.cast(String)),
            bindparam("kind", type_=String),
            User.id,
            bindparam("data", type_=JSONB),
        )
        .join(Follow, Follow.follower_id == User.id)
        .where(Follow.followed_id == bindparam("author_id", type_=Integer), User.email_notifications)
    )
    return (
        insert(table)
        .from_select(["idempotency_key", "kind", "recipient_id", "data"], source)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.idempotency_key)
    )


_TO_FOLLOWERS = _to_followers_statement()


FAN_OUT_AT_ONCE = 500


def enqueue_to_followers(db: Session, kind: str, key: str, author_id: int, **data: Any) -> int:
    """Ask for a ``kind`` notification to each follower of ``author_id`` who has not
    unsubscribed, in one statement (keys ``<key>:<follower id>``). Returns how many."""
    if kind not in NOTIFICATIONS:
        raise ValueError(f"not a notification kind: {kind!r}")
    keys = db.scalars(_TO_FOLLOWERS, {"key": key, "kind": kind, "author_id": author_id, "data": data}).all()
    # A large following is queued by the sweeper, SWEEP_BATCH at a time, so one run of the
    # chore stays well inside its timeout.
    now, later = keys[:FAN_OUT_AT_ONCE], keys[FAN_OUT_AT_ONCE:]
    if now:
        _publish_after(db, [{"key": k, "kind": kind} for k in now])
    if later:
        db.execute(_FLAG_UNPUBLISHED, {"keys": list(later)})
    return len(keys)


@lru_cache(maxsize=1)
def queue_url() -> str:
    """``EMAIL_QUEUE_URL``, or the URL of the queue named ``EMAIL_QUEUE_NAME`` (looked up once)."""
    configured = get_settings().email_queue_url
    if configured:
        return configured
    url: str = aws.client("sqs", quick=True).get_queue_url(QueueName=EMAIL_QUEUE_NAME)["QueueUrl"]
    return url


# After a failed send, the container's requests leave their mail to the sweeper for this
# long instead of each waiting for SQS to time out again.
QUEUE_PAUSE_SECONDS = 30.0
_queue_paused_until = 0.0


def _publish_after_commit(messages: list[dict[str, str]]) -> None:
    """Queue the messages of a committed transaction; flag the ones SQS did not take, so
    the sweeper queues them at its next run."""
    global _queue_paused_until
    accepted: set[str] = set()
    if time.time() >= _queue_paused_until:  # wall time: a frozen container's pause ends too
        try:
            accepted = publish(messages)
        except Exception as error:  # noqa: BLE001 - whatever kept SQS from taking them: the sweeper retries
            _queue_paused_until = time.time() + QUEUE_PAUSE_SECONDS
            log.warning("mail queue unavailable, %d mail(s) left for the sweeper: %s", len(messages), error)
    missed = [m["key"] for m in messages if m["key"] not in accepted]
    if missed:
        with transaction() as db:
            db.execute(_FLAG_UNPUBLISHED, {"keys": missed})


def publish(messages: Iterable[dict[str, str]]) -> set[str]:
    """Put messages on the mail queue; returns the keys SQS accepted. Raises when SQS cannot
    be reached. Calls made while a user waits give up quickly (see ``aws.client``)."""
    batch = list(messages)
    accepted: set[str] = set()
    sqs = aws.client("sqs", quick=True)
    for start in range(0, len(batch), 10):  # SQS takes at most 10 per call
        chunk = batch[start : start + 10]
        answer = sqs.send_message_batch(
            QueueUrl=queue_url(),
            Entries=[{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(chunk)],
        )
        accepted.update(chunk[int(ok["Id"])]["key"] for ok in answer.get("Successful", []))
        for failed in answer.get("Failed") or []:
            log.warning("SQS refused mail %s: %s", chunk[int(failed["Id"])]["key"], failed.get("Message"))
    return accepted


_table = cast(Table, OutboxMail.__table__)
SWEEP_BATCH = 100
SWEEP_ROUNDS = 20  # at most 2,000 mails per run (a run a minute drains a long outage quickly)
_FLAG_UNPUBLISHED = (
    update(_table)
    .where(_table.c.idempotency_key.in_(bindparam("keys", expanding=True)))
    .values(publish_failed_at=func.now())
)
# Mail flagged by a failed send, and mail never tried that is older than SQS's whole retry
# span (5 receives x 180 s visibility): its message was lost (e.g. the request's container
# died). Mail that was tried and failed is SQS's to retry and dead-letter, not the sweeper's.
_STALLED = (
    select(_table.c.id, _table.c.idempotency_key, _table.c.kind)
    .where(
        _table.c.sent_at.is_(None),
        _table.c.republished_at.is_(None),
        _table.c.failed_at.is_(None),
        or_(
            _table.c.publish_failed_at.is_not(None),
            and_(
                _table.c.failed_attempts == 0,
                _table.c.created_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, bindparam("age", type_=Float)),
            ),
        ),
    )
    .order_by(_table.c.created_at)
    .limit(SWEEP_BATCH)
    .with_for_update(skip_locked=True)
)
_MARK_REPUBLISHED = (
    update(_table).where(_table.c.id.in_(bindparam("ids", expanding=True))).values(republished_at=func.now())
)
_PRUNE = delete(_table).where(
    _table.c.id.in_(
        select(_table.c.id)
        .where(
            or_(
                _table.c.sent_at < func.now() - func.make_interval(0, 0, 0, bindparam("days", type_=Integer)),
                _table.c.failed_at < func.now() - func.make_interval(0, 0, 0, bindparam("days", type_=Integer)),
            )
        )
        .limit(1000)
    )
)
LOST_AFTER_SECONDS = 20 * 60
KEEP_SENT_DAYS = 30


def republish_stalled(lost_after_seconds: float = LOST_AFTER_SECONDS) -> int:
    """Queue again, once each, the mail whose message never reached SQS: flagged by a failed
    send, or unsent ``lost_after_seconds`` after its action. Forgets mail sent more than
    ``KEEP_SENT_DAYS`` ago. Returns how many were queued again; raises if SQS refuses, so the
    rows stay for the next run."""
    total = 0
    for _ in range(SWEEP_ROUNDS):
        with transaction() as db:
            rows = db.execute(_STALLED, {"age": float(lost_after_seconds)}).all()
            done: list[int] = []
            if rows:
                accepted = publish({"key": row.idempotency_key, "kind": row.kind} for row in rows)
                done = [row.id for row in rows if row.idempotency_key in accepted]
            if done:
                db.execute(_MARK_REPUBLISHED, {"ids": done})
            db.execute(_PRUNE, {"days": KEEP_SENT_DAYS})
        total += len(done)
        if len(rows) < SWEEP_BATCH:
            break
    if total:
        log.info("queued %d stalled mail(s) again", total)
    return total
