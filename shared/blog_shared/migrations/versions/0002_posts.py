"""Posts, per-user likes and comments, with the indexes the feed needs.

Revision ID: 0002_posts
Revises: 0001_users
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_posts"
down_revision = "0001_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Kept in the same transaction as every post insert/delete, so page counts need no COUNT(*)
    # over the posts table (the feed's cost must not grow with the table).
    op.add_column("users", sa.Column("post_count", sa.Integer, nullable=False, server_default="0"))
    op.create_check_constraint("ck_users_post_count", "users", "post_count >= 0")

    op.create_table(
        "posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("date_posted", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 100", name="ck_posts_title_length"),
        sa.CheckConstraint("char_length(content) BETWEEN 1 AND 20000", name="ck_posts_content_length"),
    )
    op.create_index("ix_posts_user_date", "posts", ["user_id", sa.text("date_posted DESC"), sa.text("id DESC")])
    op.create_index("ix_posts_date", "posts", [sa.text("date_posted DESC"), sa.text("id DESC")])

    op.create_table(
        "likes",
        sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_likes_user", "likes", ["user_id"])

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("date_posted", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("char_length(text) BETWEEN 1 AND 2000", name="ck_comments_text_length"),
    )
    op.create_index("ix_comments_post_date", "comments", ["post_id", "date_posted", "id"])
    op.create_index("ix_comments_user", "comments", ["user_id"])


def downgrade() -> None:
    op.drop_table("comments")
    op.drop_table("likes")
    op.drop_table("posts")
    op.drop_constraint("ck_users_post_count", "users")
    op.drop_column("users", "post_count")
