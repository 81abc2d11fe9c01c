"""Database access for logins: failed-attempt limits and token revocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from blog_shared.db import row_count
from blog_shared.models import LoginAttempt, RevokedToken, User
from blog_shared.tokens import Claims

from ..passwords.hashing import verify_password
from ..users.emails import login_key

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    outcome: str  # "ok", "unknown_email", "wrong_password" or "locked"
    retry_after: int = 0


def attempt_login(db: Session, email: str, password: str) -> LoginResult:
    """Check a password, counting failures per email; never raises, so that the
    failure it records is committed even though the request fails."""
    key = login_key(email)
    if key is None:  # cannot be an account's address
        verify_password(None, password)  # same time as for an unknown account
        return LoginResult(None, "unknown_email")
    now = datetime.now(UTC)
    window_start = now - FAILURE_WINDOW
    # Serialise attempts for one email, so parallel guesses cannot all slip under the limit.
    db.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == key, LoginAttempt.attempted_at <= window_start))
    failures, oldest = db.execute(
        select(func.count(), func.min(LoginAttempt.attempted_at)).where(LoginAttempt.email == key)
    ).one()
    if failures >= MAX_FAILURES:
        retry_after = max(1, int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1)
        return LoginResult(None, "locked", retry_after)
    user = db.scalar(select(User).where(User.email_canonical == key))
    if verify_password(user.password_hash if user else None, password):
        db.execute(delete(LoginAttempt).where(LoginAttempt.email == key))
        return LoginResult(user, "ok")
    db.add(LoginAttempt(email=key, attempted_at=now))
    return LoginResult(None, "unknown_email" if user is None else "wrong_password")


def sweep_stale(db: Session) -> int:
    """Forget failed logins past their window (most are for emails no account has) and the
    revocations of tokens that have expired anyway; returns how many rows went."""
    now = datetime.now(UTC)
    attempts = row_count(db, delete(LoginAttempt).where(LoginAttempt.attempted_at <= now - FAILURE_WINDOW))
    return attempts + row_count(db, delete(RevokedToken).where(RevokedToken.expires_at < now))


def revoke(db: Session, claims: Claims) -> None:
    """End one token before its expiry; expired revocations are pruned on the way."""
    db.execute(delete(RevokedToken).where(RevokedToken.expires_at < datetime.now(UTC)))
    db.execute(insert(RevokedToken).values(jti=claims.jti, expires_at=claims.expires_at).on_conflict_do_nothing())
