"""Database access for password resets."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from blog_shared import mail, tokens
from blog_shared.errors import InvalidError
from blog_shared.models import LoginAttempt, OutboxMail, User

from ..users.emails import login_key
from .hashing import hash_password

INVALID_TOKEN = "That is an invalid or expired token"
# At most one reset mail per account in this many seconds, however often it is asked for.
RESET_MAIL_INTERVAL = 120


def request_reset(db: Session, email: str) -> None:
    """Queue a reset mail for the account with ``email``, if there is one and none was asked
    for in the last ``RESET_MAIL_INTERVAL`` seconds (the caller answers the same either way).
    The link itself is made when the mail is sent."""
    # Locked, so two requests at once cannot both find no recent mail (FOR NO KEY UPDATE:
    # inserts that refer to the user are not held up).
    key = login_key(email)
    if key is None:
        return
    user = db.scalar(select(User).where(User.email_canonical == key).with_for_update(key_share=True))
    if user is None:
        return
    recent = db.scalar(
        select(OutboxMail.id).where(
            OutboxMail.recipient_id == user.id,
            OutboxMail.kind == mail.PASSWORD_RESET,
            OutboxMail.created_at > func.now() - func.make_interval(0, 0, 0, 0, 0, 0, RESET_MAIL_INTERVAL),
        )
    )
    if recent is None:
        mail.enqueue(db, mail.PASSWORD_RESET, f"reset:{user.id}:{uuid.uuid4().hex}", user.id)


def user_for_reset_token(db: Session, token: str, lock: bool = False) -> User:
    """The user a reset token is for; refused unless it verifies, is unexpired, is meant for a
    reset, was made since the user's last password change (so it works once) and for the
    account's current email."""
    try:
        claims = tokens.decode(token, tokens.PASSWORD_RESET)
        user_id = int(claims.subject)
    except (tokens.TokenError, ValueError):
        raise InvalidError.field("token", INVALID_TOKEN) from None
    query = select(User).where(User.id == user_id)
    user = db.scalar(query.with_for_update() if lock else query)
    if (
        user is None
        or claims.extra.get("ver") != user.session_version
        or not tokens.fingerprint_matches(user.email, claims.extra.get("em"))
    ):
        raise InvalidError.field("token", INVALID_TOKEN)
    return user


def reset_password(db: Session, user: User, password: str) -> None:
    """Set the password (also for accounts made with Google or GitHub sign-in), end every
    session and link issued before, and lift a login lock-out."""
    user.password_hash = hash_password(password)
    user.session_version += 1
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email_canonical))
    db.flush()
