"""/posts/<id>/comments: page through a post's comments, comment on a post, delete a comment."""

from __future__ import annotations

from chalice.app import Response
from marshmallow import Schema, validate

from blog_shared import limits, mail
from blog_shared.deps import request_scope
from blog_shared.http import ApiBlueprint, no_content, parse_id, path_id, success
from blog_shared.openapi import doc
from blog_shared.validation import Integer, Trimmed

from ..deps import post_path_id, writer_and_body
from ..posts.schemas import CommentListQuerySchema, CommentPageSchema, CommentSchema, comment_json, encode_cursor
from ..posts.store import comment_page, find_post
from . import store

bp = ApiBlueprint(__name__)


class CommentCreateSchema(Schema):
    user_id = Integer(metadata={"description": "Optional; must be the token's user."})
    text = Trimmed(
        required=True,
        multiline=True,
        validate=validate.Length(min=1, max=2000, error="Comment must be 1 to 2,000 characters long."),
    )


@bp.route("/posts/{post_id}/comments", methods=["GET"])
@doc(
    "A page of a post's comments, newest first",
    response=CommentPageSchema,
    errors=(400, 401, 404),
    query=CommentListQuerySchema,
    auth="optional",
)
def list_comments(post_id: str) -> Response:
    """The response also carries ``next_cursor`` (null on the last page). GET /posts/<id>
    has the first page and its ``comments_next_cursor``."""
    with request_scope(bp) as scope:
        query = scope.query(CommentListQuerySchema)
        viewer = scope.viewer
        post = find_post(scope.db, post_path_id(post_id), viewer.id if viewer else None)
        comments, older = comment_page(scope.db, post.id, query["per_page"], after=query.get("cursor"))
        page = [comment_json(comment, name) for comment, name in comments]
    return success({"comments": page}, next_cursor=encode_cursor(older) if older is not None else None)


@bp.route("/posts/{post_id}/comments", methods=["POST"])
@doc(
    "Comment on a post",
    body=CommentCreateSchema,
    response=CommentSchema,
    status=201,
    errors=(400, 401, 403, 404, 413, 429),
    auth="required",
)
def add_comment(post_id: str) -> Response:
    """At most 10 comments a minute per user (429 with Retry-After)."""
    with request_scope(bp) as scope:
        user, data = writer_and_body(scope, CommentCreateSchema)
        scope.limit(limits.COMMENT, user.id)
        post = find_post(scope.db, post_path_id(post_id), user.id)
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
