"""Signed tokens (JWT) for every purpose: API access, service calls, the visitor's address,
mailed links and the site's cookies. One module issues and checks them all.

Access tokens are signed with ES256 by user_api's private key and carry its key id (``kid``);
every other purpose is HS256 with the secret of its purpose (``SECRET_OF``), so a key that
leaks from one app opens only what that app could do anyway (see ``blog_shared.keys``).

Checks on decode: the purpose's algorithm alone, signature, ``exp``, ``iat``, ``aud``,
``iss``, ``sub``, ``jti`` and the ``purpose`` claim, so a token made for one purpose is
never accepted for another.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from jose.exceptions import JOSEError

from . import keys
from .config import get_settings

HMAC_ALGORITHM = "HS256"

ACCESS = "access"
# Minted by web_frontend for its calls to user_api's trusted endpoints (OAuth sign-in).
SERVICE = "service"
# Sent by web_frontend in CLIENT_HEADER with its calls for a visitor: the visitor's address,
# which the APIs' rate limits count (see blog_shared.limits and client_token). One purpose,
# and one secret, per API: neither API can speak for visitors to the other.
CLIENT_FOR = {"user-api": "client-users", "post-api": "client-posts"}  # by the API's app name
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
# The site's own cookies: flash messages, and the state of a sign-in with Google or GitHub.
FLASH = "flash"
OAUTH_STATE = "oauth_state"

# The secret each purpose but ACCESS is signed with.
SECRET_OF = {
    SERVICE: keys.SERVICE_SECRET,
    CLIENT_FOR["user-api"]: keys.USER_API_CLIENT_SECRET,
    CLIENT_FOR["post-api"]: keys.POST_API_CLIENT_SECRET,
    **dict.fromkeys((PASSWORD_RESET, EMAIL_CONFIRM, EMAIL_CHANGE, EMAIL_UNDO, UNSUBSCRIBE), keys.LINK_SECRET),
    **dict.fromkeys((FLASH, OAUTH_STATE), keys.COOKIE_SECRET),
}


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
    if purpose == ACCESS:
        key = keys.signing_key()
        token = jwt.encode(claims, key.pem, algorithm=keys.ALGORITHM, headers={"kid": key.kid})
    else:
        token = jwt.encode(claims, keys.hmac_secrets(SECRET_OF[purpose])[0], algorithm=HMAC_ALGORITHM)
    return IssuedToken(token, jti, expires_at)


def client_token(api: str, address: str) -> str:
    """The ``X-Blog-Client`` value the site sends when it calls ``api`` ("user-api" or
    "post-api") for a visitor at ``address``."""
    return issue("client", CLIENT_FOR[api], CLIENT_TTL, addr=address).token


def decode(token: str, purpose: str) -> Claims:
    """Verify ``token`` and return its claims; raises TokenError for anything amiss."""
    try:
        payload = _verified_payload(token, purpose)
    except JOSEError as exc:
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


def _verified_payload(token: str, purpose: str) -> dict[str, Any]:
    """The claims, once the signature (by the purpose's one algorithm and its keys) and the
    registered claims check out. A failed HMAC check is tried once more with the secret read
    afresh, in case it was replaced (at most every ``keys.REFRESH_GAP`` seconds)."""
    if purpose == ACCESS:
        kid = jwt.get_unverified_header(token).get("kid")
        public = keys.public_keys.find(kid) if isinstance(kid, str) else None
        if public is None:
            raise JWTError("the token names no key we accept")
        return _checked(token, [public], keys.ALGORITHM)
    name = SECRET_OF[purpose]
    try:
        return _checked(token, keys.hmac_secrets(name), HMAC_ALGORITHM)
    except JOSEError:
        return _checked(token, keys.hmac_secrets(name, fresh=True), HMAC_ALGORITHM)


def _checked(token: str, candidates: list[Any], algorithm: str) -> dict[str, Any]:
    """python-jose tries each of ``candidates`` for the signature."""
    settings = get_settings()
    payload: dict[str, Any] = jwt.decode(
        token,
        candidates,
        algorithms=[algorithm],
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
    return payload


def cookie_mac(message: str) -> str:
    """An HMAC the site puts in its pages and cookies (CSRF tokens), with the cookie secret."""
    return _mac(keys.hmac_secrets(keys.COOKIE_SECRET)[0], message)


def cookie_mac_matches(message: str, mac: str) -> bool:
    """Whether ``mac`` is :func:`cookie_mac` of ``message`` by the current or previous secret."""
    return any(hmac.compare_digest(_mac(secret, message), mac) for secret in keys.hmac_secrets(keys.COOKIE_SECRET))


def _mac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def email_fingerprint(email: str) -> str:
    """A keyed digest of an address, put in reset tokens so a link sent to an old address
    stops working once the account's email changes (keyed: a link does not let anyone test
    guesses of the address)."""
    return _fingerprint(keys.hmac_secrets(keys.LINK_SECRET)[0], email)


def fingerprint_matches(email: str, fingerprint: object) -> bool:
    """Whether a token's ``fingerprint`` is that of ``email`` (by the current or previous
    link secret)."""
    return isinstance(fingerprint, str) and any(
        hmac.compare_digest(_fingerprint(secret, email), fingerprint) for secret in keys.hmac_secrets(keys.LINK_SECRET)
    )


def _fingerprint(secret: str, email: str) -> str:
    return _mac(secret, email.strip().lower())[:32]
