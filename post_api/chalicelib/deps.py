"""What every write route of post_api needs first: the token's user, the validated body,
and the post named in the path."""

from __future__ import annotations

from typing import Any

from chalice.app import Request
from marshmallow import Schema
from sqlalchemy.orm import Session

from blog_shared.auth import current_user, require_self
from blog_shared.errors import ApiError
from blog_shared.http import path_id, read_json
from blog_shared.models import Post, User
from blog_shared.validation import load

from .posts import store as posts

NOT_FOUND = "Post not found"


def writer_and_body(db: Session, request: Request, schema: type[Schema]) -> tuple[User, dict[str, Any]]:
    """The token's user (401 without one) and the body; a ``user_id`` in the body is
    optional and, when given, must be that user (403)."""
    user = current_user(db, request)
    data = load(schema, read_json(request))
    if "user_id" in data:
        require_self(user, data["user_id"])
    return user, data


def post_id_or_404(raw: str) -> int:
    post_id = path_id(raw)
    if post_id is None:
        raise ApiError(404, NOT_FOUND)
    return post_id


def post_or_404(db: Session, raw_id: str, lock: bool = False) -> Post:
    """The post named in the path; ``lock`` holds it for an update or delete."""
    post_id = post_id_or_404(raw_id)
    post = posts.lock_post(db, post_id) if lock else db.get(Post, post_id)
    if post is None:
        raise ApiError(404, NOT_FOUND)
    return post
