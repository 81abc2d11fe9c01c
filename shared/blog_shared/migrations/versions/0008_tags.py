"""Tags: up to ten per post, lower-case, with a GIN index for the tag filter, and a count of
posts per tag kept in step with every write (``GET /tags`` reads it, never the posts).

Revision ID: 0008_tags
Revises: 0007_post_rendering
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_tags"
down_revision = "0007_post_rendering"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "posts",
        sa.Column("tags", postgresql.ARRAY(sa.String(30)), nullable=False, server_default=sa.text("'{}'")),
    )
    op.create_check_constraint("ck_posts_tags_count", "posts", "cardinality(tags) <= 10")
    op.create_index("ix_posts_tags", "posts", ["tags"], postgresql_using="gin")
    op.create_table(
        "tags",
        sa.Column("name", sa.String(30), primary_key=True),
        sa.Column("post_count", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint("post_count >= 0", name="ck_tags_post_count"),
    )
    op.create_index("ix_tags_popular", "tags", [sa.text("post_count DESC"), "name"])


def downgrade() -> None:
    op.drop_index("ix_tags_popular", "tags")
    op.drop_table("tags")
    op.drop_index("ix_posts_tags", "posts")
    op.drop_constraint("ck_posts_tags_count", "posts")
    op.drop_column("posts", "tags")
