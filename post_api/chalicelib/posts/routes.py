"""/posts, /posts/<id> and /tags: list (all, by author, by tag, a user's feed), read, write, delete."""

from __future__ import annotations

import math
from typing import Any

from chalice.app import Response
from sqlalchemy.orm import Session

from blog_shared import limits
from blog_shared.deps import request_scope
from blog_shared.errors import ForbiddenError, UnauthenticatedError
from blog_shared.http import ApiBlueprint, no_content, success
from blog_shared.models import User
from blog_shared.openapi import doc
from blog_shared.users import user_json

from ..deps import post_path_id, writer_and_body
from . import store
from .schemas import (
    COMMENTS_PER_PAGE,
    MAX_PER_PAGE,
    PostCreateSchema,
    PostListQuerySchema,
    PostListSchema,
    PostSchema,
    PostUpdateSchema,
    PreviewOutSchema,
    PreviewSchema,
    TagListQuerySchema,
    TagListSchema,
    comment_json,
    encode_cursor,
    post_json,
)

bp = ApiBlueprint(__name__)


@bp.route("/posts", methods=["GET"])
@doc(
    "List posts, newest first",
    response=PostListSchema,
    errors=(400, 401, 403, 404),
    query=PostListQuerySchema,
    auth="optional",
)
def list_posts() -> Response:
    """The response also carries ``pagination_meta`` ({page, per_page, pages, total}) and
    ``next_cursor`` (null on the last page); with ``with_html``, ``last_modified`` (ISO 8601):
    a feed's Last-Modified, which never goes backwards (see README, Feeds)."""
    with request_scope(bp) as scope:
        query = scope.query(PostListQuerySchema)
        per_page = min(query["per_page"], MAX_PER_PAGE)
        position: store.Position | None = query.get("cursor")
        page = None if position else query["page"]
        viewer = scope.viewer
        if "q" in query:
            return _search(scope.db, viewer, query["q"], per_page, query["page"])
        filter_user: User | None = None
        status = query["status"]
        if "user" in query:  # a feed shows whom someone follows: only they may read it
            if viewer is None:
                raise UnauthenticatedError("Reading a feed needs that user's token.")
            filter_user, total = store.filter_user(scope.db, query["user"], with_feed_total=True)
            if filter_user.id != viewer.id:
                raise ForbiddenError("You can only read your own feed.")
        elif "author" in query:
            filter_user, total = store.filter_user(scope.db, query["author"], with_feed_total=False)
            if status != store.PUBLISHED:  # unpublished posts are their author's alone
                if viewer is None:
                    raise UnauthenticatedError("Listing drafts or scheduled posts needs their author's token.")
                if filter_user.id != viewer.id:
                    raise ForbiddenError("You can only list your own drafts and scheduled posts.")
                total = store.unpublished_total(scope.db, viewer.id, status)
        else:
            total = -1  # all posts or a tag's: read with the page (below)
        page_of_posts = store.list_posts(
            scope.db,
            viewer.id if viewer else None,
            per_page + 1,  # one more tells whether a next page exists
            offset=0 if page is None else (page - 1) * per_page,
            position=position,
            author_id=filter_user.id if filter_user is not None and "author" in query else None,
            feed_of=filter_user.id if filter_user is not None and "user" in query else None,
            tag=query["tag"].lower() if "tag" in query else None,
            status=status,
            with_clock=query["with_html"],
        )
        rows = page_of_posts.rows
        if total < 0:  # an empty page carries no total: count it on its own
            tag = query["tag"].lower() if "tag" in query else None
            total = page_of_posts.total if page_of_posts.total is not None else store.counted_total(scope.db, tag)
        more = len(rows) > per_page
        rows = rows[:per_page]
        posts = [post_json(row, viewer, with_html=query["with_html"]) for row in rows]
        user_data = user_json(filter_user, viewer) if filter_user is not None else None
        feed: dict[str, Any] = {"last_modified": store.feed_last_modified(page_of_posts)} if query["with_html"] else {}
    last = rows[-1].post if rows and more else None
    return success(
        {"user_data": user_data, "posts": posts},
        pagination_meta={"page": page, "per_page": per_page, "pages": math.ceil(total / per_page), "total": total},
        next_cursor=encode_cursor(store.Position(last.date_posted, last.id)) if last is not None else None,
        **feed,
    )


@bp.route("/posts", methods=["POST"])
@doc(
    "Write a post",
    body=PostCreateSchema,
    response=PostSchema,
    status=201,
    errors=(400, 401, 403, 413, 429),
    auth="required",
)
def create_post() -> Response:
    """At most 30 posts in 10 minutes per user (429 with Retry-After). Published at once
    unless ``status`` says draft or scheduled; the author's followers are mailed (within a
    minute) once it is live."""
    with request_scope(bp) as scope:
        author, data = writer_and_body(scope, PostCreateSchema)
        scope.limit(limits.POST, author.id)
        row = store.create_post(
            scope.db,
            author,
            data["title"],
            data["content"],
            data["tags"],
            data.get("status", store.PUBLISHED),
            data.get("publish_at"),
        )
        return success({**post_json(row, author), "comments": [], "comments_next_cursor": None}, status=201)


@bp.route("/tags", methods=["GET"])
@doc(
    "The most used tags, with how many posts carry each",
    response=TagListSchema,
    errors=(400,),
    query=TagListQuerySchema,
)
def list_tags() -> Response:
    with request_scope(bp) as scope:
        limit = scope.query(TagListQuerySchema)["limit"]
        tags = store.popular_tags(scope.db, limit)
    return success({"tags": [{"name": name, "post_count": count} for name, count in tags]})


@bp.route("/posts/preview", methods=["POST"])
@doc(
    "Render Markdown as a post would show it (saves nothing)",
    body=PreviewSchema,
    response=PreviewOutSchema,
    errors=(400, 401, 413, 429),
    auth="required",
)
def preview() -> Response:
    """The site's editor shows its Preview tab with this."""
    with request_scope(bp) as scope:
        writer = scope.user  # refused without a token: previews are for writers
        scope.limit(limits.PREVIEW, writer.id)
        rendered = store.render_content(scope.body(PreviewSchema)["content"])
        return success({"content_html": rendered.html, "excerpt": rendered.excerpt})


@bp.route("/posts/{post_id}", methods=["GET"])
@doc(
    "Read a post with its newest comments (a draft or scheduled post: its author only)",
    response=PostSchema,
    errors=(401, 404),
    auth="optional",
)
def get_post(post_id: str) -> Response:
    with request_scope(bp) as scope:
        return success(_detail(scope.db, post_path_id(post_id), scope.viewer))


@bp.route("/posts/{post_id}", methods=["PUT", "POST"])
@doc(
    "Update your post (PUT, or POST as in the original)",
    body=PostUpdateSchema,
    response=PostSchema,
    errors=(400, 401, 403, 404, 413),
    auth="required",
)
def update_post(post_id: str) -> Response:
    with request_scope(bp) as scope:
        user, changes = writer_and_body(scope, PostUpdateSchema)
        post = store.find_post(scope.db, post_path_id(post_id), user.id, lock=True)
        store.require_author(post, user)
        store.update_post(scope.db, post, changes)
        return success(_detail(scope.db, post.id, user))


@bp.route("/posts/{post_id}", methods=["DELETE"])
@doc("Delete your post with its likes and comments", status=204, errors=(401, 403, 404), auth="required")
def delete_post(post_id: str) -> Response:
    with request_scope(bp) as scope:
        user = scope.user
        post = store.find_post(scope.db, post_path_id(post_id), user.id, lock=True)
        store.require_author(post, user)
        store.delete_post(scope.db, post)
    return no_content()


def _search(db: Session, viewer: User | None, words: str, per_page: int, page: int) -> Response:
    found, total = store.search_posts(db, viewer.id if viewer else None, words, per_page, (page - 1) * per_page)
    posts = []
    for row, highlight in found:
        data = post_json(row, viewer, with_html=False)
        posts.append({**data, "highlight": highlight})
    return success(
        {"user_data": None, "posts": posts},
        pagination_meta={"page": page, "per_page": per_page, "pages": math.ceil(total / per_page), "total": total},
        next_cursor=None,
    )


def _detail(db: Session, post_id: int, viewer: User | None) -> dict[str, Any]:
    """Post JSON with its newest comments and the cursor to older ones (two statements)."""
    row = store.get_post(db, post_id, viewer.id if viewer else None)
    data = post_json(row, viewer)
    comments, older = store.comment_page(db, post_id, COMMENTS_PER_PAGE)
    data["comments"] = [comment_json(comment, name) for comment, name in comments]
    data["comments_next_cursor"] = encode_cursor(older) if older is not None else None
    return data
