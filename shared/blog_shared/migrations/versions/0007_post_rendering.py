"""Posts are Markdown, rendered when written: the sanitised HTML, the plain-text excerpt and
the slug of the post's address are stored with it.

Posts written before were plain text, and stay so: their HTML is their text, escaped, in
paragraphs (a later edit renders them as Markdown).

Revision ID: 0007_post_rendering
Revises: 0006_login_throttle
Create Date: 2026-11-26
"""

import html
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0007_post_rendering"
down_revision = "0006_login_throttle"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.add_column("posts", sa.Column("content_html", sa.Text(), nullable=False, server_default=""))
    op.add_column("posts", sa.Column("excerpt", sa.String(300), nullable=False, server_default=""))
    op.add_column("posts", sa.Column("slug", sa.String(80), nullable=False, server_default="post"))
    posts = sa.table(
        "posts",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("content", sa.Text),
        sa.column("content_html", sa.Text),
        sa.column("excerpt", sa.String),
        sa.column("slug", sa.String),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(posts.c.id, posts.c.title, posts.c.content)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            posts.update().where(posts.c.id == sa.bindparam("post_id")),
            [
                {
                    "post_id": post_id,
                    "content_html": plain_html(content),
                    "excerpt": plain_excerpt(content),
                    "slug": slug(title),
                }
                for post_id, title, content in rows
            ],
        )
        last = rows[-1][0]


def plain_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p.strip()).replace(chr(10), '<br>')}</p>\n" for p in paragraphs)


def plain_excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 300 else flat[:299].rsplit(" ", 1)[0] + "…"


def slug(title: str) -> str:
    """As post_api's writing.slugify makes it today."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    made = "-".join(re.findall(r"[a-z0-9]+", folded.lower()))[:80].strip("-") or "post"
    return f"{made}-post" if made in {"like", "unlike", "comments", "update", "delete"} else made


def downgrade() -> None:
    op.drop_column("posts", "slug")
    op.drop_column("posts", "excerpt")
    op.drop_column("posts", "content_html")
