"""Password hashing with argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so the answer takes as long either way.
# The hash of a random password nobody kept, made once with the hasher's parameters (a test
# checks they are still the hasher's), so no container spends a hash on it at start-up.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$Ym10doi9L8H6D5mClRoYSA$81tz2XVg4tZlY1MA+anRhC+eFjPBEEVIVvKOvdvX7aA"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def parameters_match(encoded: str) -> bool:
    """True when ``encoded`` was made with the hasher's current parameters (same cost to verify)."""
    return not _hasher.check_needs_rehash(encoded)
