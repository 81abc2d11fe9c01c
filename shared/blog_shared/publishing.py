"""What follows a post going live: its place in the counts, and its author's followers' mail.

A post is public once it is not a draft and its ``date_posted`` has come (``Post.is_public``);
every query decides that itself. Counts (``users.post_count``, ``tags.post_count``) hold the
posts that are ``counted``: post_api counts a post published at once in the same
transaction, and the minute chore (:func:`go_live_due`) counts a scheduled one when its time
has come. Followers are mailed by the chore alone, for any post (published at once or
scheduled), once per post: a large following is mailed outside the writer's request.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from . import mail
from .models import FeedClock, Post, User

log = logging.getLogger("blog.publishing")

_users = typing.cast(Table, User.__table__)
_COUNT_POSTS = (
    update(_users)
    .where(_users.c.id == bindparam("user_id", type_=Integer))
    .values(post_count=_users.c.post_count + bindparam("change", type_=Integer))
)

# Counts change one transaction at a time: an advisory lock, held to the end of the
# transaction and always taken before any users or tags row, so writes that share an author
# or tags cannot deadlock (the minute chore counts many authors in one transaction), and a
# tag's row cannot go between the check that it exists and the change. Posts are written
# rarely; this costs a few milliseconds.
# The two-key form: its keys are a space of their own, apart from the one-key locks user_api
# takes on hashes of what visitors type (a chosen e-mail cannot collide with this one).
_COUNTS_LOCK = text("SELECT pg_advisory_xact_lock(2026, 1)")
_COUNT_TAGS_UP = text(
    "INSERT INTO tags (name, post_count) SELECT unnest(CAST(:names AS varchar[])), 1"
    " ON CONFLICT (name) DO UPDATE SET post_count = tags.post_count + 1"
)
# A count never goes below 0, and a tag no post carries any more is forgotten.
_COUNT_TAGS_DOWN = text(
    "UPDATE tags SET post_count = GREATEST(post_count - 1, 0) WHERE name = ANY(CAST(:names AS varchar[]))"
)
_FORGET_UNUSED_TAGS = text("DELETE FROM tags WHERE name = ANY(CAST(:names AS varchar[])) AND post_count = 0")


def count_tags(db: Session, added: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
    """Keep the tags' post counts in step with a write."""
    added, removed = set(added), set(removed)
    if not added and not removed:
        return
    db.execute(_COUNTS_LOCK)
    if removed:
        db.execute(_COUNT_TAGS_DOWN, {"names": sorted(removed)})
        db.execute(_FORGET_UNUSED_TAGS, {"names": sorted(removed)})
    if added:
        db.execute(_COUNT_TAGS_UP, {"names": sorted(added)})


def count_post(db: Session, author_id: int, tags: Iterable[str], change: int) -> None:
    """Add a post to (``change=1``) or take it from (``-1``) its author's and its tags' counts."""
    db.execute(_COUNTS_LOCK)  # before the users row: see _COUNTS_LOCK
    db.execute(_COUNT_POSTS, {"user_id": author_id, "change": change})
    if change > 0:
        count_tags(db, added=tags)
    else:
        count_tags(db, removed=tags)


# An upsert, and a read that stands a missing row: the clock is kept, never required. The
# time is the moment of the change (clock_timestamp(), not the transaction's start), and the
# clock never goes back: a writer that began earlier may commit later.
_NOTE_CHANGE = text(
    "INSERT INTO feed_clock (id, changed_at) VALUES (1, clock_timestamp())"
    " ON CONFLICT (id) DO UPDATE SET changed_at = GREATEST(feed_clock.changed_at, clock_timestamp())"
)
FEED_CLOCK = select(func.coalesce(func.max(FeedClock.changed_at), func.to_timestamp(0)))


def note_change(db: Session) -> None:
    """A post was written, deleted or taken back, or an author renamed: every feed may have
    changed. Run it last in the transaction (it holds the clock's one row until commit)."""
    db.execute(_NOTE_CHANGE)


def feed_clock(db: Session) -> datetime:
    """When a post or an author's name last changed anywhere (see :func:`note_change`)."""
    changed: datetime = db.execute(FEED_CLOCK).scalar_one()
    return changed


GO_LIVE_BATCH = 50
_DUE = (
    select(Post)
    .where(
        # As ix_posts_due's predicate says it, so the index serves the search.
        ~Post.draft,
        ~(Post.counted & Post.followers_notified),
        Post.date_posted <= func.now(),
    )
    .order_by(Post.date_posted)
    .limit(GO_LIVE_BATCH)
    .with_for_update(skip_locked=True)
)


def go_live_due(db: Session) -> int:
    """Catch up on posts that have gone live (at most ``GO_LIVE_BATCH`` a call, oldest first):
    count the scheduled ones, and mail each post's author's followers once. Returns how
    many posts it handled. Rows another run holds are skipped, not waited for."""
    due = list(db.scalars(_DUE))
    if any(not post.counted for post in due):
        db.execute(_COUNTS_LOCK)  # once, before any author's row
    for post in due:
        if not post.counted:
            count_post(db, post.user_id, post.tags, 1)
            post.counted = True
        if not post.followers_notified:
            mailed = mail.enqueue_to_followers(
                db, mail.NEW_POST, f"new_post:{post.id}", post.user_id, actor_id=post.user_id, post_id=post.id
            )
            post.followers_notified = True
            log.info("post %d is live: %d follower(s) to mail", post.id, mailed)
    db.flush()
    return len(due)
