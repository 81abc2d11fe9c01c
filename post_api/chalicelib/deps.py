"""What the write routes of post_api share: the writer and the validated body, and the
post named in the path."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from blog_shared.auth import require_self
from blog_shared.deps import RequestScope
from blog_shared.http import path_id
from blog_shared.models import User

from .posts.store import POST_NOT_FOUND


def writer_and_body(scope: RequestScope, schema: type[Schema]) -> tuple[User, dict[str, Any]]:
    """The token's user (refused without one) and the body; a ``user_id`` in the body is
    optional and, when given, must be that user."""
    user = scope.user
    data = scope.body(schema)
    if "user_id" in data:
        require_self(user, data["user_id"])
    return user, data


def post_path_id(raw: str) -> int:
    """The post id of the path (not found when it cannot be one)."""
    return path_id(raw, POST_NOT_FOUND)
