"""/user-follow/<follower_id>/<followed_username>: follow and unfollow, for yourself only."""

from __future__ import annotations

from chalice import Blueprint, Response
from sqlalchemy.orm import Session

from blog_shared import mail
from blog_shared.auth import current_user, require_self
from blog_shared.db import transaction
from blog_shared.errors import ApiError
from blog_shared.http import no_content, path_id, success
from blog_shared.models import User
from blog_shared.openapi import doc
from blog_shared.users import UserSchema, user_json

from ..users import store as users
from . import store

bp = Blueprint(__name__)


@bp.route("/user-follow/{follower_id}/{followed_username}", methods=["POST"])
@doc("Follow a user (idempotent)", response=UserSchema, status=201, errors=(400, 401, 403, 404), auth="required")
def follow(follower_id: str, followed_username: str) -> Response:
    with transaction() as db:
        me, target = _pair(db, follower_id, followed_username, "You cannot follow yourself.")
        if store.follow(db, me.id, target.id):
            mail.enqueue(db, mail.FOLLOW, f"follow:{me.id}:{target.id}", target.id, actor_id=me.id)
        db.refresh(target)
        return success(user_json(target, me), status=201)


@bp.route("/user-follow/{follower_id}/{followed_username}", methods=["DELETE"])
@doc("Unfollow a user", status=204, errors=(400, 401, 403, 404), auth="required")
def unfollow(follower_id: str, followed_username: str) -> Response:
    with transaction() as db:
        me, target = _pair(db, follower_id, followed_username, "You cannot unfollow yourself.")
        store.unfollow(db, me.id, target.id)
    return no_content()


@bp.route("/user-follow/{follower_id}/{followed_username}", methods=["GET"])
@doc("Whether you follow a user", errors=(401, 403, 404), auth="required")
def is_following(follower_id: str, followed_username: str) -> Response:
    """Answers ``{"following": true|false}`` (false for yourself)."""
    with transaction() as db:
        me, target = _pair(db, follower_id, followed_username)
        return success({"following": store.is_following(db, me.id, target.id)})


def _pair(db: Session, follower_id: str, followed_username: str, self_message: str | None = None) -> tuple[User, User]:
    """The token's user (who must be ``follower_id``) and the other user; with
    ``self_message``, naming yourself is a 400 with that message."""
    me = current_user(db, bp.current_request)
    follower = path_id(follower_id)
    if follower is None:
        raise ApiError(404, f"No user with id {follower_id}")
    require_self(me, follower)
    target = users.get_user_by_username(db, followed_username)
    if target is None:
        raise ApiError(404, f"No user with username {followed_username}")
    if self_message and target.id == me.id:
        raise ApiError(400, self_message)
    return me, target
