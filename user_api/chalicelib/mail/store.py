"""Database access for sending mail: the outbox row a message names."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blog_shared.models import OutboxMail


def lock_unsent(db: Session, key: str) -> OutboxMail | None:
    """The unsent mail with ``key``, locked until the transaction ends (so two deliveries of
    one message cannot both send it); None when it was sent already or does not exist."""
    mail = db.scalar(select(OutboxMail).where(OutboxMail.idempotency_key == key).with_for_update())
    return mail if mail is not None and mail.sent_at is None and mail.failed_at is None else None


def mark_sent(db: Session, mail: OutboxMail) -> None:
    mail.sent_at = func.now()
    db.flush()


def mark_failed(db: Session, mail: OutboxMail, error: Exception) -> None:
    """SES refused the mail for good: it is not tried again (``make mail-failed`` lists it)."""
    mail.failed_at = func.now()
    mail.failed_attempts += 1
    mail.last_error = str(error)[:1000]
    db.flush()


def note_failure(db: Session, mail: OutboxMail, error: Exception) -> None:
    """Count a failed send (kept when the caller then raises for SQS to retry), so the sweeper
    knows SQS is retrying this mail and operators can see why it fails."""
    mail.failed_attempts += 1
    mail.last_error = f"{type(error).__name__}: {error}"[:1000]
    db.flush()
