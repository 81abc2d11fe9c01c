"""What search engines are shown: every public post and every user, in chunks of ids.

A sitemap file holds at most 50,000 addresses, so the site's sitemap is an index of parts,
each one id range read along a primary key: its cost is the part, never the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.orm import Session

from blog_shared.models import Post, User

PART_SIZE = 10_000  # ids per part: a part is at most 10,000 addresses


def _in_part(column: Any) -> Any:
    start = (bindparam("part", type_=Integer) - 1) * PART_SIZE
    return column.between(start + 1, start + PART_SIZE)


_LAST_IDS = select(select(func.max(Post.id)).scalar_subquery(), select(func.max(User.id)).scalar_subquery())
_POSTS = (
    # greatest() passes over NULL: an unedited post's is its publication.
    select(Post.id, Post.slug, func.greatest(Post.date_posted, Post.updated_at))
    .where(_in_part(Post.id), Post.is_public())
    .order_by(Post.id)
)
_USERS = select(User.username).where(_in_part(User.id)).order_by(User.id)


def part_counts(db: Session) -> tuple[int, int]:
    """How many parts the posts and the users take."""
    last_post, last_user = db.execute(_LAST_IDS).one()
    return -(-(last_post or 0) // PART_SIZE), -(-(last_user or 0) // PART_SIZE)


def posts_in_part(db: Session, part: int) -> list[tuple[int, str, datetime]]:
    """The public posts whose ids fall in ``part`` (from 1): id, slug, last change."""
    return [(row[0], row[1], row[2]) for row in db.execute(_POSTS, {"part": part}).all()]


def users_in_part(db: Session, part: int) -> list[str]:
    return list(db.scalars(_USERS, {"part": part}).all())
