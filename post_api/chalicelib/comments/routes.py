"""/posts/<id>/comments: comment on a post, delete a comment."""

from __future__ import annotations

from chalice.app import Response
from marshmallow import Schema, validate

from blog_shared import mail
from blog_shared.deps import request_scope
from blog_shared.http import ApiBlueprint, no_content, parse_id, path_id, success
from blog_shared.openapi import doc
from blog_shared.validation import Integer, Trimmed

from ..deps import post_path_id, writer_and_body
from ..posts.schemas import CommentSchema, comment_json
from ..posts.store import find_post
from . import store

bp = ApiBlueprint(__name__)


class CommentCreateSchema(Schema):
    user_id = Integer(metadata={"description": "Optional; must be the token's user."})
    text = Trimmed(
        required=True,
        multiline=True,
        validate=validate.Length(min=1, max=2000, error="Comment must be 1 to 2,000 characters long."),
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
    with request_scope(bp) as scope:
        user, data = writer_and_body(scope, CommentCreateSchema)
        post = find_post(scope.db, post_path_id(post_id))
        comment = store.add_comment(scope.db, post.id, user.id, data["text"])
        if post.user_id != user.id:
            mail.enqueue(
                scope.db,
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
    with request_scope(bp) as scope:
        user = scope.user
        # A post id that cannot exist means the comment is not found either.
        numeric_post = parse_id(post_id) or 0
        store.delete_comment(scope.db, numeric_post, path_id(comment_id, store.COMMENT_NOT_FOUND), user)
    return no_content()
