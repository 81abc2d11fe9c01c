"""Drafts out of the public indexes, and the clock feeds read their Last-Modified from.

``ix_posts_date`` and ``ix_posts_user_date`` hold public and scheduled posts only (``WHERE
NOT draft``): the public lists never read past drafts, however many a writer keeps.

``feed_clock`` is one row: when a post was last written, deleted or taken back, or an author
renamed, anywhere. A feed's Last-Modified is the later of it and its entries' publication,
so it never goes backwards when a post leaves a feed (the entries alone cannot say that).

Revision ID: 0011_feed_clock
Revises: 0010_publishing
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_feed_clock"
down_revision = "0010_publishing"
branch_labels = None
depends_on = None

NEWEST_FIRST = [sa.text("date_posted DESC"), sa.text("id DESC")]


def upgrade() -> None:
    op.drop_index("ix_posts_date", "posts")
    op.create_index("ix_posts_date", "posts", NEWEST_FIRST, postgresql_where=sa.text("NOT draft"))
    op.drop_index("ix_posts_user_date", "posts")
    op.create_index("ix_posts_user_date", "posts", ["user_id", *NEWEST_FIRST], postgresql_where=sa.text("NOT draft"))
    op.create_table(
        "feed_clock",
        sa.Column("id", sa.SmallInteger(), primary_key=True, server_default="1"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("id = 1", name="ck_feed_clock_one_row"),
    )
    op.execute("INSERT INTO feed_clock (id) VALUES (1)")


def downgrade() -> None:
    op.drop_table("feed_clock")
    op.drop_index("ix_posts_user_date", "posts")
    op.create_index("ix_posts_user_date", "posts", ["user_id", *NEWEST_FIRST])
    op.drop_index("ix_posts_date", "posts")
    op.create_index("ix_posts_date", "posts", NEWEST_FIRST)
