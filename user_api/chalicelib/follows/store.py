"""Database access for following. Counts are COUNT(*) over the follows table (indexed both
ways), so they are exact under any interleaving of follows and unfollows."""

from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from blog_shared.models import Follow


def follow(db: Session, follower_id: int, followed_id: int) -> bool:
    """Idempotent: following someone twice leaves one row. True when the follow is new."""
    added = db.execute(
        insert(Follow)
        .values(follower_id=follower_id, followed_id=followed_id)
        .on_conflict_do_nothing()
        .returning(Follow.follower_id)
    ).first()
    return added is not None


def unfollow(db: Session, follower_id: int, followed_id: int) -> None:
    db.execute(delete(Follow).where(Follow.follower_id == follower_id, Follow.followed_id == followed_id))


def is_following(db: Session, follower_id: int, followed_id: int) -> bool:
    return bool(db.scalar(select(exists().where(Follow.follower_id == follower_id, Follow.followed_id == followed_id))))
