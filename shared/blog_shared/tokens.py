"""Signed tokens (JWT, HS256) for every purpose: API access, service calls, password reset
and unsubscribe links. One module issues and checks them all.

Checks on decode: the algorithm allow-list, signature, ``exp``, ``iat``, ``aud``,
``iss``, ``sub``, ``jti`` and the ``purpose`` claim, so a token made for one
purpose is never accepted for another.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from jose import JWTError, jwt

from .config import ConfigError, get_settings, is_placeholder_secret

ALGORITHM = "HS256"
ALLOWED_ALGORITHMS = [ALGORITHM]

ACCESS = "access"
# Minted by web_frontend for its calls to user_api's trusted endpoints (OAuth sign-in).
SERVICE = "service"
# Sent by web_frontend in CLIENT_HEADER with its calls for a visitor: the visitor's address,
# which the APIs' rate limits count (see blog_shared.limits and client_token).
CLIENT = "client"
CLIENT_HEADER = "X-Blog-Client"
CLIENT_TTL = 60
# In a password reset mail: good for 30 minutes and only while the password is unchanged.
PASSWORD_RESET = "password-reset"
PASSWORD_RESET_TTL = 30 * 60
# Confirming an address: the account's own (welcome mail, "send again"), or a new one it
# asked to change to (sent to the new address); undoing a change (sent to the old one).
EMAIL_CONFIRM = "email-confirm"
EMAIL_CONFIRM_TTL = 7 * 24 * 3600
EMAIL_CHANGE = "email-change"
EMAIL_CHANGE_TTL = 24 * 3600
EMAIL_UNDO = "email-undo"
EMAIL_UNDO_TTL = 7 * 24 * 3600
# In every notification mail (List-Unsubscribe): turns notification mail off.
UNSUBSCRIBE = "unsubscribe"
UNSUBSCRIBE_TTL = 365 * 24 * 3600


class TokenError(Exception):
    """The token is malformed, forged, expired or meant for something else."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: uuid.UUID
    expires_at: datetime

    @property
    def expires_in(self) -> int:
        return max(0, int((self.expires_at - datetime.now(UTC)).total_seconds()))


@dataclass(frozen=True)
class Claims:
    subject: str
    purpose: str
    jti: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    extra: dict[str, Any]


@lru_cache(maxsize=1)
def signing_key() -> str:
    """The HMAC key: ``JWT_SECRET``, or the Secrets Manager secret named by ``JWT_SECRET_ARN``
    (fetched once per container)."""
    settings = get_settings()
    if settings.jwt_secret_arn:
        from . import aws  # only needed when the key lives in Secrets Manager

        secret: str = aws.client("secretsmanager").get_secret_value(SecretId=settings.jwt_secret_arn)["SecretString"]
        if is_placeholder_secret(secret):
            raise ConfigError("The secret behind JWT_SECRET_ARN is too short or a placeholder.")
        return secret
    if not settings.jwt_secret:
        raise ConfigError("JWT_SECRET is not set.")
    return settings.jwt_secret


def issue(subject: str | int, purpose: str, ttl_seconds: int, **extra: Any) -> IssuedToken:
    settings = get_settings()
    now = datetime.now(UTC).replace(microsecond=0)
    expires_at = now + timedelta(seconds=ttl_seconds)
    jti = uuid.uuid4()
    claims = {
        **extra,
        "sub": str(subject),
        "purpose": purpose,
        "jti": str(jti),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    return IssuedToken(jwt.encode(claims, signing_key(), algorithm=ALGORITHM), jti, expires_at)


def client_token(address: str) -> str:
    """The ``X-Blog-Client`` value a service sends when it calls an API for a visitor at
    ``address``."""
    return issue("client", CLIENT, CLIENT_TTL, addr=address).token


def decode(token: str, purpose: str) -> Claims:
    """Verify ``token`` and return its claims; raises TokenError for anything amiss."""
    settings = get_settings()
    try:
        payload = jwt.decode(
            token,
            signing_key(),
            algorithms=ALLOWED_ALGORITHMS,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_aud": True,
                "require_iss": True,
                "require_sub": True,
                "require_jti": True,
            },
        )
    except JWTError as exc:
        raise TokenError(str(exc)) from exc
    if payload.get("purpose") != purpose:
        raise TokenError("token has the wrong purpose")
    try:
        jti = uuid.UUID(payload["jti"])
    except (ValueError, TypeError, AttributeError) as exc:
        raise TokenError("malformed jti") from exc
    reserved = {"sub", "purpose", "jti", "iat", "exp", "iss", "aud", "nbf"}
    return Claims(
        subject=payload["sub"],
        purpose=purpose,
        jti=jti,
        issued_at=datetime.fromtimestamp(payload["iat"], UTC),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        extra={k: v for k, v in payload.items() if k not in reserved},
    )


def email_fingerprint(email: str) -> str:
    """A keyed digest of an address, put in reset tokens so a link sent to an old address
    stops working once the account's email changes (keyed: a link does not let anyone test
    guesses of the address)."""
    digest = hmac.new(signing_key().encode(), email.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()[:32]
