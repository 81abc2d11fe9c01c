"""Tables shared by the apps. The schema itself is created by the Alembic migrations
in ``blog_shared/migrations``; these classes mirror them, indexes included (a test compares
the two with Alembic's autogenerate and fails on any difference)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column


class Base(DeclarativeBase):
    pass


class Follow(Base):
    __tablename__ = "follows"

    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    followed_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("follower_id <> followed_id", name="ck_follows_not_self"),
        Index("ix_follows_followed_follower", "followed_id", "follower_id"),
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    # How addresses compare (blog_shared.users.canonical_email): unique, looked up at login.
    email_canonical: Mapped[str] = mapped_column(String(254))
    # When the address was confirmed from its mail (a provider's sign-in confirms it too).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_hash: Mapped[str | None] = mapped_column(Text)
    from_oauth: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    image_filename: Mapped[str | None] = mapped_column(String(255))
    # Bumped when the password changes: every token issued before stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Maintained with every post insert/delete (see post_api), so totals need no COUNT(*).
    post_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Notification mail (likes, comments, followers); turned off by the mails' unsubscribe link.
    email_notifications: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # Usernames and emails are unique whatever their case ("Ann" cannot sign up beside "ann").
    __table_args__ = (
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("uq_users_email_canonical", email_canonical, unique=True),
    )

    # Counted in the same statement that loads the user; both use an index.
    following_count: Mapped[int] = column_property(
        select(func.count()).where(Follow.follower_id == id).correlate_except(Follow).scalar_subquery(),
        deferred=False,
    )
    follower_count: Mapped[int] = column_property(
        select(func.count()).where(Follow.followed_id == id).correlate_except(Follow).scalar_subquery(),
        deferred=False,
    )


class RevokedToken(Base):
    """Access tokens ended by logout before their expiry (rows may be purged after ``expires_at``)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginAttempt(Base):
    """Failed logins (per account's canonical email, "" for none, and client address), kept
    in the database so the throttling holds across Lambda containers."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    client: Mapped[str] = mapped_column(String(64), default="", server_default="")
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_login_attempts_email_time", "email", "attempted_at"),
        Index("ix_login_attempts_client_time", "client", "attempted_at"),
    )


class RateLimitHit(Base):
    """Requests counted per key (an action with an account or a client address) in one
    fixed window of time (see blog_shared.limits); swept once the window has ended."""

    __tablename__ = "rate_limit_hits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_rate_limit_hits_window_end", "window_end"),)


POST_SEARCH = (
    "setweight(to_tsvector('english'::regconfig, title), 'A')"
    " || setweight(to_tsvector('english'::regconfig, post_tags_text(tags)), 'A')"
    " || setweight(to_tsvector('english'::regconfig, content), 'B')"
)


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)  # Markdown, as written
    # Rendered when written (post_api's posts/writing.py): sanitised HTML, plain text, address.
    content_html: Mapped[str] = mapped_column(Text, server_default="")
    excerpt: Mapped[str] = mapped_column(String(300), server_default="")
    slug: Mapped[str] = mapped_column(String(80), server_default="post")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(30)), server_default=text("'{}'"))
    # Full text, kept by PostgreSQL (migration 0009): title and tags weigh more than the body.
    search: Mapped[str] = mapped_column(TSVECTOR, Computed(POST_SEARCH, persisted=True), deferred=True)
    # When the post goes (or went) live: the moment it was published, or the time it is
    # scheduled for. A post is public when it is not a draft and this time has come.
    date_posted: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    draft: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # What follows going live (migration 0010): in its author's and tags' counts, and its
    # author's followers mailed. The minute chore catches up on scheduled posts.
    counted: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    followers_notified: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (CheckConstraint("cardinality(tags) <= 10", name="ck_posts_tags_count"),)

    @classmethod
    def is_public(cls) -> Any:
        """SQL: the post is public now."""
        return ~cls.draft & (cls.date_posted <= func.now())


# Newest first, for everyone and per author (the feed merges the authors' newest posts).
# Drafts are not in them (migration 0011): a public list never reads past a writer's drafts.
Index("ix_posts_user_date", Post.user_id, Post.date_posted.desc(), Post.id.desc(), postgresql_where=~Post.draft)
Index("ix_posts_date", Post.date_posted.desc(), Post.id.desc(), postgresql_where=~Post.draft)
Index("ix_posts_tags", Post.tags, postgresql_using="gin")  # the tag filter (tags @> ARRAY[...])
Index("ix_posts_search", Post.search, postgresql_using="gin")  # search @@ websearch_to_tsquery(...)
Index("ix_posts_drafts", Post.user_id, Post.date_posted.desc(), Post.id.desc(), postgresql_where=Post.draft)
# Live posts the minute chore has yet to count or announce (scheduled ones, mostly).
Index(
    "ix_posts_due",
    Post.date_posted,
    postgresql_where=text("NOT draft AND NOT (counted AND followers_notified)"),
)


class FeedClock(Base):
    """One row: when a post was last written, deleted or taken back, or an author renamed,
    anywhere (``publishing.note_change``). Feeds take their Last-Modified from it."""

    __tablename__ = "feed_clock"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="1")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint("id = 1", name="ck_feed_clock_one_row"),)


class Tag(Base):
    """A tag with the number of posts that carry it, kept in step by every post write."""

    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    post_count: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (
        Index("ix_tags_popular", post_count.desc(), name),
        CheckConstraint("post_count >= 0", name="ck_tags_post_count"),
    )


class Like(Base):
    __tablename__ = "likes"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_likes_user", "user_id"),)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(2000))
    date_posted: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_comments_post_date", "post_id", "date_posted", "id"),
        Index("ix_comments_user", "user_id"),
    )


class OutboxMail(Base):
    """A mail to send, written in the same transaction as the action it reports (the
    transactional outbox). Its key makes it unique per action: the producer inserts it at most
    once, the consumer sends it at most once (``sent_at``), whatever SQS redelivers."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set when the mail went out (or was dropped on purpose: recipient unsubscribed meanwhile).
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the message could not be put on the queue after the commit (the sweeper's cue).
    publish_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the sweeper put it on the queue again because it was still unsent.
    republished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when SES refused the mail for good (it is not tried again).
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Sends that failed (SQS retries them), and why the last one did.
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The sweeper looks only at unsent mail it has not queued again yet, oldest first.
        Index(
            "ix_email_outbox_unsent",
            "created_at",
            postgresql_where=text("sent_at IS NULL AND republished_at IS NULL"),
        ),
        Index("ix_email_outbox_sent", "sent_at"),  # pruning old rows
        Index("ix_email_outbox_failed", "failed_at", postgresql_where=text("failed_at IS NOT NULL")),  # for operators
        Index("ix_email_outbox_recipient_kind", "recipient_id", "kind", "created_at"),
    )
