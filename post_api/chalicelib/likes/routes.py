"""/posts/<id>/likes: like (idempotent) and unlike, one like per user."""

from __future__ import annotations

from chalice import Blueprint, Response
from marshmallow import Schema, fields

from blog_shared import mail
from blog_shared.auth import current_user
from blog_shared.db import transaction
from blog_shared.errors import ApiError
from blog_shared.http import no_content, success
from blog_shared.openapi import doc

from ..deps import NOT_FOUND, post_id_or_404, post_or_404, writer_and_body
from . import store

bp = Blueprint(__name__)


class LikeBodySchema(Schema):
    user_id = fields.Integer(metadata={"description": "Optional; must be the token's user."})


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
    request = bp.current_request
    with transaction() as db:
        user, _body = writer_and_body(db, request, LikeBodySchema)
        numeric_id = post_id_or_404(post_id)
        liked = store.like(db, numeric_id, user.id)
        if liked is None:
            raise ApiError(404, NOT_FOUND)
        if liked.added and liked.author_id != user.id:
            mail.enqueue(
                db, mail.LIKE, f"like:{numeric_id}:{user.id}", liked.author_id, actor_id=user.id, post_id=numeric_id
            )
        return success({"post_id": numeric_id, "likes": liked.likes, "liked_by_me": True}, status=201)


@bp.route("/posts/{post_id}/likes", methods=["DELETE"])
@doc("Take your like back", status=204, errors=(401, 404), auth="required")
def unlike(post_id: str) -> Response:
    request = bp.current_request
    with transaction() as db:
        user = current_user(db, request)
        post = post_or_404(db, post_id)
        store.unlike(db, post.id, user.id)
    return no_content()
