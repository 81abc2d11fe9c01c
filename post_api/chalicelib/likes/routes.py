"""/posts/<id>/likes: like (idempotent) and unlike, one like per user."""

from __future__ import annotations

from chalice.app import Response
from marshmallow import Schema, fields

from blog_shared import mail
from blog_shared.deps import request_scope
from blog_shared.http import ApiBlueprint, no_content, success
from blog_shared.openapi import doc
from blog_shared.validation import Integer

from ..deps import post_path_id, writer_and_body
from ..posts.store import find_post
from . import store

bp = ApiBlueprint(__name__)


class LikeBodySchema(Schema):
    user_id = Integer(metadata={"description": "Optional; must be the token's user."})


class LikeSchema(Schema):
    post_id = fields.Integer()
    likes = fields.Integer()
    liked_by_me = fields.Boolean()


@bp.route("/posts/{post_id}/likes", methods=["POST"])
@doc(
    "Like a post (once per user)",
    body=LikeBodySchema,
    response=LikeSchema,
    status=201,
    errors=(401, 403, 404),
    auth="required",
)
def like(post_id: str) -> Response:
    """The post's author gets a notification mail for a new like by someone else (once per
    user and post, even after unliking and liking again)."""
    with request_scope(bp) as scope:
        user, _body = writer_and_body(scope, LikeBodySchema)
        numeric_id = post_path_id(post_id)
        liked = store.like(scope.db, numeric_id, user.id)
        if liked.added and liked.author_id != user.id:
            key = f"like:{numeric_id}:{user.id}"
            mail.enqueue(scope.db, mail.LIKE, key, liked.author_id, actor_id=user.id, post_id=numeric_id)
        return success({"post_id": numeric_id, "likes": liked.likes, "liked_by_me": True}, status=201)


@bp.route("/posts/{post_id}/likes", methods=["DELETE"])
@doc("Take your like back", status=204, errors=(401, 404), auth="required")
def unlike(post_id: str) -> Response:
    with request_scope(bp) as scope:
        user = scope.user
        post = find_post(scope.db, post_path_id(post_id), user.id)
        store.unlike(scope.db, post.id, user.id)
    return no_content()
