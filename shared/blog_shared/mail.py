"""The mail producer: the one way an app asks for a mail to be sent.

``enqueue`` writes the mail into the ``email_outbox`` table inside the caller's transaction
(so a mail exists exactly when its action committed) and, once that transaction commits,
puts a small JSON message ``{"key", "kind"}`` on the SQS queue. The request never waits for
the mail itself. If the queue cannot be reached the action still succeeds: the row stays
unsent and ``republish_stalled`` (user_api's scheduled function, and the dev worker) puts
it on the queue again later, so nothing is lost. user_api's consumer sends each key once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import Boolean, Integer, String, bindparam, delete, or_, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from . import aws
from .config import EMAIL_QUEUE_NAME, get_settings
from .db import after_commit, transaction
from .models import OutboxMail, User

log = logging.getLogger("blog.mail")

WELCOME = "welcome"
PASSWORD_RESET = "password_reset"
LIKE = "like"
COMMENT = "comment"
FOLLOW = "follow"
# Mails about other people's actions: only to users who have not unsubscribed.
NOTIFICATIONS = frozenset({LIKE, COMMENT, FOLLOW})
KINDS = NOTIFICATIONS | {WELCOME, PASSWORD_RESET}

REPUBLISH_AFTER_SECONDS = 120
KEEP_SENT_DAYS = 30
_PENDING = "mail_pending"


def _enqueue_statement() -> Any:
    recipient = bindparam("recipient_id", type_=Integer)
    source = select(
        bindparam("key", type_=String),
        bindparam("kind", type_=String),
        User.id,
        bindparam("data", type_=JSONB),
    ).where(User.id == recipient, or_(~bindparam("notification", type_=Boolean), User.email_notifications))
    table = OutboxMail.__table__  # a Core insert: the ORM would read the parameters as rows
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
    pending: list[dict[str, str]] = db.info.setdefault(_PENDING, [])
    if not pending:
        after_commit(db, lambda: publish(pending))
    pending.append({"key": key, "kind": kind})
    return True


@lru_cache(maxsize=1)
def queue_url() -> str:
    """``EMAIL_QUEUE_URL``, or the URL of the queue named ``EMAIL_QUEUE_NAME`` (looked up once)."""
    configured = get_settings().email_queue_url
    if configured:
        return configured
    return aws.client("sqs").get_queue_url(QueueName=EMAIL_QUEUE_NAME)["QueueUrl"]


def publish(messages: Iterable[dict[str, str]], raise_errors: bool = False) -> int:
    """Put messages on the mail queue; returns how many SQS accepted. Failures are logged (the
    outbox keeps the mail for the sweeper), or raised with ``raise_errors``."""
    batch = list(messages)
    accepted = 0
    for start in range(0, len(batch), 10):  # SQS takes at most 10 per call
        chunk = batch[start : start + 10]
        try:
            answer = aws.client("sqs").send_message_batch(
                QueueUrl=queue_url(),
                Entries=[{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(chunk)],
            )
        except Exception as error:  # botocore's connection and client errors alike
            if raise_errors:
                raise
            log.warning("mail queue unavailable, %d mail(s) left for the sweeper: %s", len(batch) - accepted, error)
            return accepted
        failed = answer.get("Failed") or []
        if failed and raise_errors:
            raise RuntimeError(f"SQS refused {len(failed)} message(s): {failed[0].get('Message')}")
        if failed:
            log.warning("SQS refused %d mail message(s), left for the sweeper: %s", len(failed), failed[0])
        accepted += len(chunk) - len(failed)
    return accepted


_STALLED = (
    select(OutboxMail.id, OutboxMail.idempotency_key, OutboxMail.kind)
    .where(
        OutboxMail.sent_at.is_(None),
        OutboxMail.republished_at.is_(None),
        OutboxMail.created_at < text("now() - make_interval(secs => :age)").bindparams(age=0.0),
    )
    .order_by(OutboxMail.created_at)
    .limit(100)
    .with_for_update(skip_locked=True)
)


def republish_stalled(older_than_seconds: float = REPUBLISH_AFTER_SECONDS) -> int:
    """Queue again every mail still unsent ``older_than_seconds`` after its action (its first
    message was lost, e.g. the queue was down), once each; and forget mail sent more than
    ``KEEP_SENT_DAYS`` ago. Returns how many were queued again. Raises if SQS refuses, so
    the rows stay for the next run."""
    with transaction() as db:
        rows = db.execute(_STALLED, {"age": float(older_than_seconds)}).all()
        if rows:
            publish(({"key": row.idempotency_key, "kind": row.kind} for row in rows), raise_errors=True)
            db.execute(
                update(OutboxMail)
                .where(OutboxMail.id.in_([row.id for row in rows]))
                .values(republished_at=text("now()"))
            )
        db.execute(
            delete(OutboxMail).where(OutboxMail.sent_at < text("now() - make_interval(days => :days)")),
            {"days": KEEP_SENT_DAYS},
        )
    if rows:
        log.info("queued %d stalled mail(s) again", len(rows))
    return len(rows)
