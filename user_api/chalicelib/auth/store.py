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

FAILURE_WINDOW = timedelta(minutes=15)
# Failures from one client address: past this many in the window, that address waits.
ADDRESS_FAILURES = 10
# Failures on one account from several addresses (a spread-out attack): past this many, each
# further attempt on it waits twice as long as the one before, up to ACCOUNT_DELAY_CAP.
ACCOUNT_FAILURES = 5
ACCOUNT_ADDRESSES = 3
ACCOUNT_DELAY_CAP = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    outcome: str  # "ok", "unknown_email", "wrong_password" or "throttled"
    retry_after: int = 0


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds()) + 1)


def attempt_login(db: Session, email: str, password: str, client: str) -> LoginResult:
    """Check a password at most once. Throttled without locking anyone out: failures from
    one address slow that address; an account failing from many addresses gets growing
    delays (its owner can still get in through the reset link, which clears them). Never
    raises, so that the failure it records is committed even though the request fails."""
    now = datetime.now(UTC)
    since = now - FAILURE_WINDOW
    # Serialise attempts from one address (then, below, on one account: always in that
    # order), so parallel guesses cannot all read a count below the limit.
    db.execute(select(func.pg_advisory_xact_lock(func.hashtext("address:" + client))))
    from_address, oldest = db.execute(
        select(func.count(), func.min(LoginAttempt.attempted_at)).where(
            LoginAttempt.client == client, LoginAttempt.attempted_at > since
        )
    ).one()
    if from_address >= ADDRESS_FAILURES:
        return LoginResult(None, "throttled", _seconds_until(oldest + FAILURE_WINDOW, now))
    key = login_key(email)
    if key is None:  # cannot be an account's address
        verify_password(None, password)  # same time as for an unknown account
        db.add(LoginAttempt(email="", client=client, attempted_at=now))
        return LoginResult(None, "unknown_email")
    # Serialise attempts on one account, so parallel guesses see each other's failures.
    db.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    failures, addresses, last = db.execute(
        select(func.count(), func.count(LoginAttempt.client.distinct()), func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == key, LoginAttempt.attempted_at > since
        )
    ).one()
    if failures >= ACCOUNT_FAILURES and addresses >= ACCOUNT_ADDRESSES:
        delay = min(timedelta(seconds=2 ** (failures - ACCOUNT_FAILURES)), ACCOUNT_DELAY_CAP)
        if now < last + delay:
            return LoginResult(None, "throttled", _seconds_until(last + delay, now))
    user = db.scalar(select(User).where(User.email_canonical == key))
    if verify_password(user.password_hash if user else None, password):
        db.execute(delete(LoginAttempt).where(LoginAttempt.email == key))
        return LoginResult(user, "ok")
    db.add(LoginAttempt(email=key, client=client, attempted_at=now))
    return LoginResult(None, "unknown_email" if user is None else "wrong_password")


def record_failure(db: Session, key: str, client: str) -> None:
    """Count a failed password check made outside a login (see ``users.routes``)."""
    db.add(LoginAttempt(email=key, client=client, attempted_at=datetime.now(UTC)))


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
