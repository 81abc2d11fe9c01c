"""Database access for likes: one row per (post, user), so counts are exact under concurrency."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from blog_shared.db import FOREIGN_KEY_VIOLATION, sqlstate
from blog_shared.errors import NotFoundError
from blog_shared.models import Like, Post

from ..posts.store import POST_NOT_FOUND


def _like_statement() -> Select[Any]:
    post_id, user_id = bindparam("post_id", type_=Integer), bindparam("user_id", type_=Integer)
    # Drafts and scheduled posts are their author's alone: anyone else finds nothing to like.
    readable = select(Post).where(Post.id == post_id, or_(Post.is_public(), Post.user_id == user_id)).subquery()
    exists_ = select(readable.c.id).exists()
    added = (
        insert(Like)
        .from_select(["post_id", "user_id"], select(post_id, user_id).where(exists_))
        .on_conflict_do_nothing()
        .returning(Like.post_id)
        .cte("added")
    )
    # The count cannot see the insert of the same statement, so the new row is added to it.
    count = select(func.count()).where(Like.post_id == post_id).scalar_subquery()
    new = select(func.count()).select_from(added).scalar_subquery()
    author = select(readable.c.user_id).scalar_subquery()
    return select(author, count, new)


_LIKE = _like_statement()  # built once per container


class Liked(NamedTuple):
    added: bool  # False for a repeated like
    likes: int
    author_id: int  # the post's author


def like(db: Session, post_id: int, user_id: int) -> Liked:
    """Like the post once (idempotent), in one statement."""
    try:
        author_id, before, inserted = db.execute(_LIKE, {"post_id": post_id, "user_id": user_id}).one()
    except DBAPIError as error:
        # The post was deleted meanwhile; the error rolls the transaction back.
        if sqlstate(error) == FOREIGN_KEY_VIOLATION:
            raise NotFoundError(POST_NOT_FOUND) from None
        raise
    if author_id is None:
        raise NotFoundError(POST_NOT_FOUND)
    return Liked(bool(inserted), before + inserted, author_id)


def unlike(db: Session, post_id: int, user_id: int) -> None:
    db.execute(delete(Like).where(Like.post_id == post_id, Like.user_id == user_id))
