"""Full-text search: a stored tsvector of each post (title and tags weighted above the body,
English stemming) with a GIN index, computed by PostgreSQL itself whenever the row changes.

Revision ID: 0009_search
Revises: 0008_tags
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_search"
down_revision = "0008_tags"
branch_labels = None
depends_on = None

# array_to_string is only STABLE (for arrays of any type); over varchar it cannot change,
# and a generated column needs IMMUTABLE.
TAGS_TEXT = (
    "CREATE FUNCTION post_tags_text(tags varchar[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE"
    " AS $$ SELECT array_to_string(tags, ' ') $$"
)
SEARCH = (
    "setweight(to_tsvector('english'::regconfig, title), 'A')"
    " || setweight(to_tsvector('english'::regconfig, post_tags_text(tags)), 'A')"
    " || setweight(to_tsvector('english'::regconfig, content), 'B')"
)


def upgrade() -> None:
    op.execute(TAGS_TEXT)
    op.add_column(
        "posts", sa.Column("search", postgresql.TSVECTOR(), sa.Computed(SEARCH, persisted=True), nullable=False)
    )
    op.create_index("ix_posts_search", "posts", ["search"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_posts_search", "posts")
    op.drop_column("posts", "search")
    op.execute("DROP FUNCTION post_tags_text(varchar[])")
