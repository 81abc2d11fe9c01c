"""Database access for likes: one row per (post, user), so counts are exact under concurrency."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from blog_shared.models import Like


def like(db: Session, post_id: int, user_id: int) -> bool:
    """Idempotent; True when this call added the like (not when it was already there)."""
    result = db.execute(
        insert(Like).values(post_id=post_id, user_id=user_id).on_conflict_do_nothing().returning(Like.post_id)
    )
    return result.first() is not None


def unlike(db: Session, post_id: int, user_id: int) -> None:
    db.execute(delete(Like).where(Like.post_id == post_id, Like.user_id == user_id))


def like_count(db: Session, post_id: int) -> int:
    return db.scalar(select(func.count()).where(Like.post_id == post_id)) or 0
