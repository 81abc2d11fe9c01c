"""/posts/<id>/comments: comment on a post, delete a comment."""

from __future__ import annotations

from chalice import Blueprint, Response
from marshmallow import Schema, fields, validate

from blog_shared import mail
from blog_shared.auth import current_user
from blog_shared.db import transaction
from blog_shared.errors import ApiError
from blog_shared.http import no_content, path_id, success
from blog_shared.openapi import doc
from blog_shared.validation import Trimmed

from ..deps import NOT_FOUND, post_id_or_404, post_or_404, writer_and_body
from ..posts.schemas import CommentSchema, comment_json
from . import store

bp = Blueprint(__name__)


class CommentCreateSchema(Schema):
    user_id = fields.Integer(metadata={"description": "Optional; must be the token's user."})
    text = Trimmed(
        required=True, validate=validate.Length(min=1, max=2000, error="Comment must be 1 to 2,000 characters long.")
    )


@bp.route("/posts/{post_id}/comments", methods=["POST"])
@doc(
    "Comment on a post",
    body=CommentCreateSchema,
    response=CommentSchema,
    status=201,
    errors=(400, 401, 403, 404, 413),
    auth="required",
)
def add_comment(post_id: str) -> Response:
    request = bp.current_request
    with transaction() as db:
        user, data = writer_and_body(db, request, CommentCreateSchema)
        post = post_or_404(db, post_id)
        comment = store.add_comment(db, post.id, user.id, data["text"])
        if comment is None:
            raise ApiError(404, NOT_FOUND)
        if post.user_id != user.id:
            mail.enqueue(
                db,
                mail.COMMENT,
                f"comment:{comment.id}",
                post.user_id,
                actor_id=user.id,
                post_id=post.id,
                comment_id=comment.id,
            )
        return success(comment_json(comment, user.username), status=201)


@bp.route("/posts/{post_id}/comments/{comment_id}", methods=["DELETE"])
@doc("Delete a comment (its author or the post's author)", status=204, errors=(401, 403, 404), auth="required")
def delete_comment(post_id: str, comment_id: str) -> Response:
    request = bp.current_request
    with transaction() as db:
        user = current_user(db, request)
        found = None
        numeric_comment = path_id(comment_id)
        if numeric_comment is not None:
            found = store.get_comment_with_post_author(db, post_id_or_404(post_id), numeric_comment)
        if found is None:
            raise ApiError(404, "Comment not found")
        comment, post_author_id = found
        if user.id not in (comment.user_id, post_author_id):
            raise ApiError(403, "Only the comment's author or the post's author can delete it.")
        store.delete_comment(db, comment)
    return no_content()
