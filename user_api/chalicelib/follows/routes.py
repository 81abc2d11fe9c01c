"""/user-follow/<follower_id>/<followed_username>: follow and unfollow, for yourself only."""

from __future__ import annotations

from chalice.app import Response

from blog_shared import mail
from blog_shared.auth import require_self
from blog_shared.deps import RequestScope, request_scope
from blog_shared.errors import InvalidError
from blog_shared.http import ApiBlueprint, no_content, path_id, success
from blog_shared.models import User
from blog_shared.openapi import doc
from blog_shared.users import UserSchema, user_json

from ..users import store as users
from . import store

bp = ApiBlueprint(__name__)


@bp.route("/user-follow/{follower_id}/{followed_username}", methods=["POST"])
@doc("Follow a user (idempotent)", response=UserSchema, status=201, errors=(400, 401, 403, 404), auth="required")
def follow(follower_id: str, followed_username: str) -> Response:
    with request_scope(bp) as scope:
        me, target = _pair(scope, follower_id, followed_username, "You cannot follow yourself.")
        if store.follow(scope.db, me.id, target.id):
            mail.enqueue(scope.db, mail.FOLLOW, f"follow:{me.id}:{target.id}", target.id, actor_id=me.id)
        scope.db.refresh(target)
        return success(user_json(target, me), status=201)


@bp.route("/user-follow/{follower_id}/{followed_username}", methods=["DELETE"])
@doc("Unfollow a user", status=204, errors=(400, 401, 403, 404), auth="required")
def unfollow(follower_id: str, followed_username: str) -> Response:
    with request_scope(bp) as scope:
        me, target = _pair(scope, follower_id, followed_username, "You cannot unfollow yourself.")
        store.unfollow(scope.db, me.id, target.id)
    return no_content()


@bp.route("/user-follow/{follower_id}/{followed_username}", methods=["GET"])
@doc("Whether you follow a user", errors=(401, 403, 404), auth="required")
def is_following(follower_id: str, followed_username: str) -> Response:
    """Answers ``{"following": true|false}`` (false for yourself)."""
    with request_scope(bp) as scope:
        me, target = _pair(scope, follower_id, followed_username)
        return success({"following": store.is_following(scope.db, me.id, target.id)})


def _pair(
    scope: RequestScope, follower_id: str, followed_username: str, self_message: str | None = None
) -> tuple[User, User]:
    """The token's user (who must be ``follower_id``) and the other user; with
    ``self_message``, naming yourself is refused with that message."""
    me = scope.user
    require_self(me, path_id(follower_id, f"No user with id {follower_id}"))
    target = users.get_user_by_username(scope.db, followed_username)
    if self_message and target.id == me.id:
        raise InvalidError(self_message)
    return me, target
