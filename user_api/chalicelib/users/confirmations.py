"""Links mailed about an account's address: confirming it, confirming a new one (a change
takes effect only then), undoing a change from the old address, and sending the
confirmation again."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from blog_shared import mail, tokens
from blog_shared.errors import InvalidError
from blog_shared.models import LoginAttempt, User
from blog_shared.users import canonical_email

from .store import EMAIL_TAKEN, flush_unique

INVALID_LINK = "This link is not valid (or not any more)."


def _user_of(db: Session, token: str, purposes: tuple[str, ...]) -> tuple[User, str, dict[str, Any]]:
    """The user a link's token names, locked, its purpose and its claims; refused unless it
    verifies and, but for an undo link, was made for the account's current address (and a
    change link also since the last password change or undo: ``ver``)."""
    for purpose in purposes:
        try:
            claims = tokens.decode(token, purpose)
            user_id = int(claims.subject)
            break
        except (tokens.TokenError, ValueError):
            continue
    else:
        raise InvalidError.field("token", INVALID_LINK)
    user = db.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise InvalidError.field("token", INVALID_LINK)
    if purpose != tokens.EMAIL_UNDO and not tokens.fingerprint_matches(user.email, claims.extra.get("em")):
        raise InvalidError.field("token", INVALID_LINK)
    if purpose == tokens.EMAIL_CHANGE and claims.extra.get("ver") != user.session_version:
        raise InvalidError.field("token", INVALID_LINK)
    return user, purpose, claims.extra


def _taken(db: Session, user: User, address: str) -> bool:
    owner = db.scalar(select(User.id).where(User.email_canonical == canonical_email(address)))
    return owner is not None and owner != user.id


def confirm(db: Session, token: str) -> User:
    """Confirm the account's address, or take the new address a change link names (then the
    old address is told, with a link to undo it)."""
    user, purpose, claims = _user_of(db, token, (tokens.EMAIL_CONFIRM, tokens.EMAIL_CHANGE))
    if purpose == tokens.EMAIL_CHANGE:
        new, old = str(claims.get("new", "")), user.email
        if not new or _taken(db, user, new):
            raise InvalidError.field("token", EMAIL_TAKEN if new else INVALID_LINK)
        user.email, user.email_canonical = new, canonical_email(new)
        mail.enqueue(db, mail.EMAIL_CHANGED, f"email-changed:{user.id}:{uuid.uuid4().hex}", user.id, to=old)
    if user.email_confirmed_at is None or purpose == tokens.EMAIL_CHANGE:
        user.email_confirmed_at = func.now()
    flush_unique(db)  # two accounts confirming one address at once: one gets "taken"
    db.refresh(user)
    return user


def undo_change(db: Session, token: str) -> User:
    """Put back the address a change replaced and end every session of the account (whoever
    changed it may hold one); the owner then logs in again, or resets the password."""
    user, _, claims = _user_of(db, token, (tokens.EMAIL_UNDO,))
    old = str(claims.get("old", ""))
    if not old or _taken(db, user, old):
        raise InvalidError.field("token", INVALID_LINK)
    user.email, user.email_canonical = old, canonical_email(old)
    user.email_confirmed_at = func.now()
    user.session_version += 1  # every session ends, and every change link still out dies
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email_canonical))
    flush_unique(db)
    db.refresh(user)
    return user


def send_again(db: Session, user: User) -> bool:
    """Queue another confirmation mail unless the address is confirmed (rate-limited by the
    caller); True when one was queued."""
    if user.email_confirmed_at is not None:
        return False
    return mail.enqueue(db, mail.CONFIRM_EMAIL, f"confirm:{user.id}:{uuid.uuid4().hex}", user.id)
