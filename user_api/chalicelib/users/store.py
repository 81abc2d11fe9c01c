"""Database access for users."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blog_shared import mail, publishing, tokens
from blog_shared.avatars import is_own_avatar_key
from blog_shared.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from blog_shared.models import User
from blog_shared.users import canonical_email

from ..passwords.hashing import hash_password

USERNAME_TAKEN = "This username has been taken."
EMAIL_TAKEN = "This email has been taken."
INVALID_UNSUBSCRIBE = "This unsubscribe link is not valid."
CURRENT_PASSWORD_NEEDED = "Enter your current password to change your email or password."
CURRENT_PASSWORD_WRONG = "The current password is wrong."
NO_PASSWORD_YET = (
    'This account has no password yet: set one with the link of "Forgot password?" first '
    "(it goes to the account's address)."
)


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFoundError(f"No user with id {user_id}")
    return user


def get_user_by_username(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise NotFoundError(f"No user with username {username}")
    return user


def find_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email_canonical == canonical_email(email)))


def _check_unique(db: Session, username: str | None, email: str | None, exclude_id: int | None = None) -> None:
    for condition, message, field in (
        (func.lower(User.username) == username.lower() if username is not None else None, USERNAME_TAKEN, "username"),
        (User.email_canonical == canonical_email(email) if email is not None else None, EMAIL_TAKEN, "email"),
    ):
        if condition is None:
            continue
        query = select(User.id).where(condition)
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        if db.scalar(query) is not None:
            raise InvalidError.field(field, message)


def flush_unique(db: Session) -> None:
    """Flush, turning a lost race on a unique index into the same error as the check above."""
    try:
        db.flush()
    except IntegrityError as error:
        text = str(error.orig)
        if "uq_users_username_lower" in text:
            raise InvalidError.field("username", USERNAME_TAKEN) from None
        if "uq_users_email_canonical" in text:
            raise InvalidError.field("email", EMAIL_TAKEN) from None
        raise


def create_user(db: Session, username: str, email: str, password: str) -> User:
    _check_unique(db, username, email)
    user = User(
        username=username,
        email=email,
        email_canonical=canonical_email(email),
        password_hash=hash_password(password),
        from_oauth=False,
    )
    db.add(user)
    flush_unique(db)
    db.refresh(user)
    return user


@dataclass(frozen=True)
class Update:
    password_changed: bool = False  # every token issued before is void
    email_pending: str | None = None  # the new address was sent a link to confirm it


def new_email(user: User, changes: dict[str, Any]) -> str | None:
    """The address ``changes`` ask for when it is another one (not the same written
    differently): it takes effect only from the link mailed to it."""
    email: str | None = changes.get("email")
    return email if email is not None and canonical_email(email) != user.email_canonical else None


def needs_current_password(user: User, changes: dict[str, Any]) -> bool:
    """Changing the email or the password proves the password first (the route checks it as
    a login attempt), so a stolen session alone cannot take the account."""
    return "password" in changes or new_email(user, changes) is not None


def update_user(db: Session, user: User, changes: dict[str, Any]) -> Update:
    """Apply validated changes, the current password checked already when
    :func:`needs_current_password`. A new address is not taken at once: it is sent a link to
    confirm it (``email_pending``); a new password voids every token issued before."""
    if user.from_oauth:
        for field in ("username", "email"):
            if field in changes and changes[field].lower() != getattr(user, field).lower():
                raise ForbiddenError(
                    "Accounts created with Google or GitHub sign-in cannot change their username or email."
                )
    picture = changes.get("image_filename")
    if picture is not None and not is_own_avatar_key(picture, user.id):
        raise InvalidError.field("image_filename", "Not a picture uploaded for this account.")
    pending = new_email(user, changes)
    if "email" in changes and pending is None:
        user.email = changes["email"]  # the same address, written another way
    _check_unique(db, changes.get("username"), pending, exclude_id=user.id)
    renamed = "username" in changes and changes["username"] != user.username
    for field in ("username", "image_filename", "email_notifications"):
        if field in changes:
            setattr(user, field, changes[field])
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
        user.session_version += 1
    if pending is not None:
        mail.enqueue(db, mail.EMAIL_CHANGE, f"email-change:{user.id}:{uuid.uuid4().hex}", user.id, to=pending)
    flush_unique(db)
    if renamed:
        publishing.note_change(db)  # feeds show authors' names
    db.refresh(user)
    return Update(password_changed="password" in changes, email_pending=pending)


def _free_username(db: Session, hint: str) -> str:
    """A valid, unused username made from a provider's login or name."""
    base = re.sub(r"[^A-Za-z0-9_.\-]", "", hint)[:16] or "user"
    if len(base) < 2:
        base = f"{base}user"
    candidate, number = base, 1
    while db.scalar(select(User.id).where(func.lower(User.username) == candidate.lower())) is not None:
        number += 1
        candidate = f"{base[: 20 - len(str(number))]}{number}"
    return candidate


def find_or_create_oauth_user(db: Session, email: str, username_hint: str) -> tuple[User, bool]:
    """The account for a provider-verified email, created (without a password) when new.
    Returns (user, created)."""
    existing = find_by_email(db, email)
    if existing is not None and not existing.from_oauth:
        # Emails are not verified at registration: whoever registered this address with a
        # password must not be handed to (or share an account with) the provider's user.
        raise ConflictError("An account with this email already exists. Please log in with your password.")
    if existing is not None:
        return existing, False
    user = User(
        username=_free_username(db, username_hint),
        email=email,
        email_canonical=canonical_email(email),
        email_confirmed_at=func.now(),  # the provider verified it
        password_hash=None,
        from_oauth=True,
    )
    db.add(user)
    flush_unique(db)
    db.refresh(user)
    return user, True


def unsubscribe_target(db: Session, token: str) -> User:
    """The user whose notification mail an unsubscribe link's token turns off (refused when
    the token does not verify)."""
    try:
        user_id = int(tokens.decode(token, tokens.UNSUBSCRIBE).subject)
    except (tokens.TokenError, ValueError):
        raise InvalidError.field("token", INVALID_UNSUBSCRIBE) from None
    user = db.get(User, user_id)
    if user is None:
        raise InvalidError.field("token", INVALID_UNSUBSCRIBE)
    return user


def unsubscribe(db: Session, token: str) -> User:
    """Turn notification mail off for the user of an unsubscribe link's token."""
    user = unsubscribe_target(db, token)
    user.email_notifications = False
    db.flush()
    return user
