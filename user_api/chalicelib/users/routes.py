"""/users: look up, register and update users."""

from __future__ import annotations

from chalice import Blueprint, Response
from sqlalchemy.orm import Session

from blog_shared import mail
from blog_shared.auth import current_user, issue_access_token, optional_user, require_self, require_service
from blog_shared.db import transaction
from blog_shared.errors import ApiError
from blog_shared.http import path_id, query_param, read_json, success
from blog_shared.models import User
from blog_shared.openapi import doc
from blog_shared.users import UserSchema, user_json
from blog_shared.validation import load

from . import store
from .schemas import OAuthUserSchema, UnsubscribeSchema, UserCreateSchema, UserUpdateSchema

bp = Blueprint(__name__)


@bp.route("/users", methods=["GET"])
@doc(
    "Find a user by username or email",
    response=UserSchema,
    errors=(400, 401, 403, 404),
    query=(("username", "the user's name"), ("email", "the user's email (needs that user's token)")),
    auth="optional",
)
def find_user() -> Response:
    """Looking a user up by email needs that user's own token, so emails cannot be probed."""
    request = bp.current_request
    username, email = query_param(request, "username"), query_param(request, "email")
    with transaction() as db:
        viewer = optional_user(db, request)
        if username:
            user = store.get_user_by_username(db, username)
            if user is None:
                raise ApiError(404, f"No user with username {username}")
        elif email:
            if viewer is None:
                raise ApiError(401, "Looking a user up by email needs that user's token.")
            if viewer.email.lower() != email.strip().lower():
                raise ApiError(403, "You can only look up your own email.")
            user = viewer
        else:
            raise ApiError(400, "Username or email argument not provided")
        return success(user_json(user, viewer))


@bp.route("/users", methods=["POST"])
@doc("Register a user", body=UserCreateSchema, response=UserSchema, status=201, errors=(400, 413))
def create_user() -> Response:
    data = load(UserCreateSchema, read_json(bp.current_request))
    with transaction() as db:
        user = store.create_user(db, data["username"], data["email"], data["password"])
        mail.enqueue(db, mail.WELCOME, f"welcome:{user.id}", user.id)
        return success(user_json(user, user), status=201)


@bp.route("/users/{user_id}", methods=["GET"])
@doc("Get a user by id", response=UserSchema, errors=(401, 404), auth="optional")
def get_user(user_id: str) -> Response:
    with transaction() as db:
        viewer = optional_user(db, bp.current_request)
        user = _existing(db, user_id)
        return success(user_json(user, viewer))


@bp.route("/users/{user_id}", methods=["PUT"])
@doc(
    "Update your own user",
    body=UserUpdateSchema,
    response=UserSchema,
    errors=(400, 401, 403, 404, 413),
    auth="required",
)
def update_user(user_id: str) -> Response:
    """Changing the password needs ``current_password`` and voids every token issued before;
    the response then carries a fresh ``access_token``."""
    request = bp.current_request
    with transaction() as db:
        viewer = current_user(db, request)
        user = _existing(db, user_id)
        require_self(viewer, user.id)
        changes = load(UserUpdateSchema, read_json(request))
        if store.update_user(db, user, changes):
            token = issue_access_token(user)
            return success(
                user_json(user, user), access_token=token.token, token_type="Bearer", expires_in=token.expires_in
            )
        return success(user_json(user, user))


@bp.route("/oauth-users", methods=["POST"])
@doc(
    "Sign in with Google or GitHub (for web_frontend only)",
    body=OAuthUserSchema,
    response=UserSchema,
    errors=(400, 401, 403, 409),
    auth="required",
)
def oauth_user() -> Response:
    """Finds the account of a provider-verified email or creates it (``from_oauth``, no
    password until one is set by a reset), and returns it with an access token. Needs a
    service token from web_frontend, never a user's token."""
    request = bp.current_request
    require_service(request, "web_frontend")
    data = load(OAuthUserSchema, read_json(request))
    with transaction() as db:
        user, created = store.find_or_create_oauth_user(db, data["email"], data["username_hint"])
        if created:
            mail.enqueue(db, mail.WELCOME, f"welcome:{user.id}", user.id)
    token = issue_access_token(user, remember=data["remember"])
    return success(
        user_json(user, user),
        status=201 if created else 200,
        access_token=token.token,
        token_type="Bearer",
        expires_in=token.expires_in,
    )


@bp.route("/email-preferences/unsubscribe", methods=["POST"])
@doc("Stop notification mail, with the token of a mail's unsubscribe link", body=UnsubscribeSchema, errors=(400, 413))
def unsubscribe() -> Response:
    """Answers ``{"username", "email_notifications": false}``. Turn mail on again with
    ``PUT /users/{id}`` and ``email_notifications: true``."""
    data = load(UnsubscribeSchema, read_json(bp.current_request))
    with transaction() as db:
        user = store.unsubscribe(db, data["token"])
        return success(
            {"username": user.username, "email_notifications": False},
            message="You will no longer get mail about likes, comments and followers.",
        )


def _existing(db: Session, raw_id: str) -> User:
    user_id = path_id(raw_id)
    user = store.get_user(db, user_id) if user_id is not None else None
    if user is None:
        raise ApiError(404, f"No user with id {raw_id}")
    return user
