"""Drafts and scheduled posts.

A post is public when it is not a draft and its ``date_posted`` (the time it goes live: the
moment of publishing, or the time a writer scheduled) has come. Visibility is decided by
each query against ``now()``, never by a job. The minute chore only catches up on what
follows a post going live: ``counted`` (it is in its author's and its tags' counts) and
``followers_notified`` (its author's followers were mailed). Existing posts are both.

Revision ID: 0010_publishing
Revises: 0009_search
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_publishing"
down_revision = "0009_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Constant defaults: PostgreSQL adds these columns without rewriting the table.
    op.add_column("posts", sa.Column("draft", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("posts", sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("posts", sa.Column("followers_notified", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_index(
        "ix_posts_drafts",
        "posts",
        ["user_id", sa.text("date_posted DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("draft"),
    )
    op.create_index(
        "ix_posts_due",
        "posts",
        ["date_posted"],
        postgresql_where=sa.text("NOT draft AND NOT (counted AND followers_notified)"),
    )


def downgrade() -> None:
    # Without these columns every draft and scheduled post would be public at once.
    unpublished = op.get_bind().scalar(sa.text("SELECT count(*) FROM posts WHERE draft OR date_posted > now()"))
    if unpublished:
        raise RuntimeError(
            f"{unpublished} draft or scheduled post(s) would become public: publish or delete them first"
        )
    op.drop_index("ix_posts_due", "posts")
    op.drop_index("ix_posts_drafts", "posts")
    op.drop_column("posts", "followers_notified")
    op.drop_column("posts", "counted")
    op.drop_column("posts", "draft")
