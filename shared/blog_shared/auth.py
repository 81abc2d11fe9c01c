"""Who is calling: the bearer token check used by every API.

``current_user`` accepts a token only if it verifies (see ``tokens.decode``), was
issued for API access, belongs to an existing user, was issued since that user's
last password change (``session_version``) and was not revoked by a logout.
"""

from __future__ import annotations

from chalice.app import Request
from sqlalchemy import Integer, Uuid, bindparam, exists, select
from sqlalchemy.orm import Session

from . import tokens
from .errors import ApiError
from .models import RevokedToken, User

# Built once: the token's user and whether the token was revoked, in one statement.
_USER_AND_REVOKED = select(User, exists().where(RevokedToken.jti == bindparam("jti", type_=Uuid))).where(
    User.id == bindparam("user_id", type_=Integer)
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="serverless-blog"'}


def bearer_token(request: Request) -> str | None:
    header = (request.headers or {}).get("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def issue_access_token(user: User, remember: bool = False) -> tokens.IssuedToken:
    settings = tokens.get_settings()
    ttl = settings.remember_token_ttl if remember else settings.access_token_ttl
    return tokens.issue(user.id, tokens.ACCESS, ttl, ver=user.session_version)


def access_claims(request: Request) -> tokens.Claims | None:
    """The verified claims of the request's bearer token; None without one; 401 when it is bad."""
    token = bearer_token(request)
    if token is None:
        return None
    try:
        return tokens.decode(token, tokens.ACCESS)
    except tokens.TokenError:
        raise ApiError(401, "The access token is invalid or has expired.", headers=_CHALLENGE) from None


def authenticate(db: Session, request: Request) -> tuple[User, tokens.Claims] | None:
    """The calling user and their token's claims, or None for an anonymous request.
    A bad, revoked or outdated token is a 401, never treated as anonymous."""
    claims = access_claims(request)
    if claims is None:
        return None
    try:
        user_id = int(claims.subject)
    except ValueError:
        raise ApiError(401, "The access token is invalid or has expired.", headers=_CHALLENGE) from None
    row = db.execute(_USER_AND_REVOKED, {"user_id": user_id, "jti": claims.jti}).first()
    if row is None or row[1] or claims.extra.get("ver") != row[0].session_version:
        raise ApiError(401, "The access token is invalid or has expired.", headers=_CHALLENGE)
    return row[0], claims


def optional_user(db: Session, request: Request) -> User | None:
    """The calling user, or None for an anonymous request."""
    found = authenticate(db, request)
    return found[0] if found else None


def current_user(db: Session, request: Request) -> User:
    """The calling user; 401 when the request carries no valid token."""
    return require_token(db, request)[0]


def require_token(db: Session, request: Request) -> tuple[User, tokens.Claims]:
    found = authenticate(db, request)
    if found is None:
        raise ApiError(401, "Authentication required: send 'Authorization: Bearer <token>'.", headers=_CHALLENGE)
    return found


def require_self(user: User, user_id: int) -> None:
    """403 unless the token's user is the one the request acts for."""
    if user.id != user_id:
        raise ApiError(403, "You can only act for your own account.")


def require_service(request: Request, service: str) -> None:
    """401 unless the request carries a service token minted by ``service`` (another app of
    this deployment, holding the same signing key)."""
    token = bearer_token(request)
    try:
        claims = tokens.decode(token or "", tokens.SERVICE)
    except tokens.TokenError:
        raise ApiError(401, "This endpoint is for the blog's own services.", headers=_CHALLENGE) from None
    if claims.subject != service:
        raise ApiError(403, "This service may not call this endpoint.")
