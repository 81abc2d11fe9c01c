"""Who is calling: the bearer token check used by every API.

A token is accepted only if it verifies (see ``tokens.decode``), was issued for API
access, belongs to an existing user, was issued since that user's last password change
(``session_version``) and was not revoked by a logout. Routes reach this through
``blog_shared.deps.request_scope``.
"""

from __future__ import annotations

from chalice.app import Request
from sqlalchemy import Integer, Uuid, bindparam, exists, select
from sqlalchemy.orm import Session

from . import tokens
from .config import get_settings
from .errors import ForbiddenError, UnauthenticatedError
from .models import RevokedToken, User

# Built once: the token's user and whether the token was revoked, in one statement.
_USER_AND_REVOKED = select(User, exists().where(RevokedToken.jti == bindparam("jti", type_=Uuid))).where(
    User.id == bindparam("user_id", type_=Integer)
)
INVALID_TOKEN = "The access token is invalid or has expired."
TOKEN_REQUIRED = "Authentication required: send 'Authorization: Bearer <token>'."


def bearer_token(request: Request) -> str | None:
    header = (request.headers.get("authorization") if request.headers else None) or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def issue_access_token(user: User, remember: bool = False) -> tokens.IssuedToken:
    settings = get_settings()
    ttl = settings.remember_token_ttl if remember else settings.access_token_ttl
    return tokens.issue(user.id, tokens.ACCESS, ttl, ver=user.session_version)


def authenticate(db: Session, request: Request) -> tuple[User, tokens.Claims] | None:
    """The calling user and their token's claims, or None for an anonymous request.
    A bad, revoked or outdated token is refused, never treated as anonymous."""
    token = bearer_token(request)
    if token is None:
        return None
    try:
        claims = tokens.decode(token, tokens.ACCESS)
        user_id = int(claims.subject)
    except (tokens.TokenError, ValueError):
        raise UnauthenticatedError(INVALID_TOKEN) from None
    row = db.execute(_USER_AND_REVOKED, {"user_id": user_id, "jti": claims.jti}).first()
    if row is None or row[1] or claims.extra.get("ver") != row[0].session_version:
        raise UnauthenticatedError(INVALID_TOKEN)
    user: User = row[0]
    return user, claims


def require_self(user: User, user_id: int) -> None:
    """Refused unless the token's user is the one the request acts for."""
    if user.id != user_id:
        raise ForbiddenError("You can only act for your own account.")


def require_service(request: Request, service: str) -> None:
    """Refused unless the request carries a service token minted by ``service`` (another app
    of this deployment, holding the service secret)."""
    token = bearer_token(request)
    try:
        claims = tokens.decode(token or "", tokens.SERVICE)
    except tokens.TokenError:
        raise UnauthenticatedError("This endpoint is for the blog's own services.") from None
    if claims.subject != service:
        raise ForbiddenError("This service may not call this endpoint.")
