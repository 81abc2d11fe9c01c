"""/password-reset: forgotten passwords, by a link sent in a mail."""

from __future__ import annotations

from chalice.app import Response

from blog_shared import limits
from blog_shared.deps import request_scope
from blog_shared.http import ApiBlueprint, success
from blog_shared.openapi import doc
from blog_shared.users import UserSchema, user_json

from ..users.emails import login_key
from . import store
from .schemas import ResetPasswordSchema, ResetRequestSchema, ResetTokenSchema

bp = ApiBlueprint(__name__)

SENT = "If an account with that email exists, we have sent it a link to reset its password."


@bp.route("/password-reset/request", methods=["POST"])
@doc("Mail a password reset link", body=ResetRequestSchema, status=202, errors=(400, 413, 429))
def request_reset() -> Response:
    """Answers 202 whether or not the email belongs to an account, so it reveals nothing.
    The link is valid for 30 minutes and only until the password changes. At most 3 requests
    an hour for one address and 10 from one client (429 with Retry-After)."""
    with request_scope(bp) as scope:
        email = scope.body(ResetRequestSchema)["email"]
        scope.limit(limits.PASSWORD_RESET, account=login_key(email) or email.strip().lower())
        store.request_reset(scope.db, email)
    return success(None, status=202, message=SENT)


@bp.route("/password-reset/check", methods=["POST"])
@doc("Whether a reset link still works", body=ResetTokenSchema, errors=(400, 413))
def check_token() -> Response:
    """200 with ``{"valid": true}``, or 400 for an expired, used or tampered token."""
    with request_scope(bp) as scope:
        store.user_for_reset_token(scope.db, scope.body(ResetTokenSchema)["token"])
    return success({"valid": True})


@bp.route("/password-reset", methods=["POST"])
@doc("Set a new password with a reset link's token", body=ResetPasswordSchema, response=UserSchema, errors=(400, 413))
def reset_password() -> Response:
    """Every token issued before (sessions and other reset links) stops working."""
    with request_scope(bp) as scope:
        data = scope.body(ResetPasswordSchema)
        user = store.user_for_reset_token(scope.db, data["token"], lock=True)
        store.reset_password(scope.db, user, data["password"])
        return success(user_json(user, user), message="Your password has been updated! You are now able to log in.")
