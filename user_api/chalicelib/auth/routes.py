"""/user-auth: log in (get a token) and log out (revoke it)."""

from __future__ import annotations

from chalice.app import Response

from blog_shared.deps import request_scope
from blog_shared.errors import NotFoundError, ThrottledError, UnauthenticatedError
from blog_shared.http import ApiBlueprint, no_content
from blog_shared.openapi import doc
from blog_shared.users import UserSchema

from ..sessions import token_response
from . import store
from .schemas import LegacyLoginQuerySchema, LegacyLoginSchema, LoginSchema

bp = ApiBlueprint(__name__)


@bp.route("/user-auth", methods=["POST"])
@doc("Log in: returns the user and an access token", body=LoginSchema, response=UserSchema, errors=(400, 401, 404, 429))
def log_in() -> Response:
    """``remember: true`` asks for a long-lived token (``REMEMBER_TOKEN_TTL``). Failed logins
    slow down (429 with ``Retry-After``): 10 from one address in 15 minutes make that address
    wait; an account failing from 3 or more addresses waits twice as long after each further
    failure. Nobody is locked out: the reset link clears an account's failures."""
    with request_scope(bp) as scope:
        data = scope.body(LoginSchema)
        result = store.attempt_login(scope.db, data["email"], data["password"], scope.client_address)
    return _answer(result, data["email"], data["remember"])


@bp.route("/user-auth", methods=["GET"])
@doc(
    "Log in the original way: ?email= with the password in a JSON body",
    body=LegacyLoginSchema,
    response=UserSchema,
    errors=(400, 401, 404, 429),
    query=LegacyLoginQuerySchema,
)
def log_in_legacy() -> Response:
    with request_scope(bp) as scope:
        email = scope.query(LegacyLoginQuerySchema)["email"]
        data = scope.body(LegacyLoginSchema)
        result = store.attempt_login(scope.db, email, data["password"], scope.client_address)
    return _answer(result, email, data["remember"])


@bp.route("/user-auth", methods=["DELETE"])
@doc("Log out: the token stops working at once", status=204, errors=(401,), auth="required")
def log_out() -> Response:
    with request_scope(bp) as scope:
        store.revoke(scope.db, scope.claims)
    return no_content()


def _answer(result: store.LoginResult, email: str, remember: bool) -> Response:
    """The token, or why not; called after the commit, so failed attempts are counted."""
    if result.outcome == "throttled":
        raise ThrottledError("Too many failed logins. Try again later, or reset your password.", result.retry_after)
    if result.outcome == "unknown_email":
        raise NotFoundError(f"No user with email {email}")
    if result.outcome == "wrong_password" or result.user is None:
        raise UnauthenticatedError("Authentication failed: wrong password.")
    return token_response(result.user, remember=remember)
