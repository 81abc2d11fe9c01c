"""/user-auth: log in (get a token) and log out (revoke it)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from blog_shared.auth import issue_access_token, require_token
from blog_shared.db import transaction
from blog_shared.errors import ApiError
from blog_shared.http import no_content, query_param, read_json, success
from blog_shared.openapi import doc
from blog_shared.users import UserSchema, user_json
from blog_shared.validation import load

from . import store
from .schemas import LegacyLoginSchema, LoginSchema

bp = Blueprint(__name__)


@bp.route("/user-auth", methods=["POST"])
@doc("Log in: returns the user and an access token", body=LoginSchema, response=UserSchema, errors=(400, 401, 404, 429))
def log_in() -> Response:
    """``remember: true`` asks for a long-lived token (``REMEMBER_TOKEN_TTL``)."""
    data = load(LoginSchema, read_json(bp.current_request))
    return _log_in(data["email"], data["password"], data["remember"])


@bp.route("/user-auth", methods=["GET"])
@doc(
    "Log in the original way: ?email= with the password in a JSON body",
    body=LegacyLoginSchema,
    response=UserSchema,
    errors=(400, 401, 404, 429),
    query=(("email", "the account's email"),),
)
def log_in_legacy() -> Response:
    request = bp.current_request
    email = query_param(request, "email")
    if not email:
        raise ApiError(400, "Email argument not provided")
    if len(email) > 254:
        raise ApiError(400, "Invalid data provided.", errors={"email": ["Email must be at most 254 characters long."]})
    data = load(LegacyLoginSchema, read_json(request))
    return _log_in(email, data["password"], data["remember"])


@bp.route("/user-auth", methods=["DELETE"])
@doc("Log out: the token stops working at once", status=204, errors=(401,), auth="required")
def log_out() -> Response:
    request = bp.current_request
    with transaction() as db:
        _user, claims = require_token(db, request)
        store.revoke(db, claims)
    return no_content()


def _log_in(email: str, password: str, remember: bool) -> Response:
    with transaction() as db:
        result = store.attempt_login(db, email, password)
    # Raised after the commit, so failed attempts are counted.
    if result.outcome == "locked":
        raise ApiError(
            429,
            "Too many failed logins for this account. Try again later.",
            headers={"Retry-After": str(result.retry_after)},
        )
    if result.outcome == "unknown_email":
        raise ApiError(404, f"No user with email {email}")
    if result.outcome == "wrong_password" or result.user is None:
        raise ApiError(401, "Authentication failed: wrong password.")
    token = issue_access_token(result.user, remember=remember)
    body: dict[str, Any] = {"access_token": token.token, "token_type": "Bearer", "expires_in": token.expires_in}
    return success(user_json(result.user, result.user), **body)
