"""Rate limits' counts (see blog_shared.limits); mail SES refused for good.

Revision ID: 0004_limits
Revises: 0003_email
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_limits"
down_revision = "0003_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("window_end", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
    )
    op.create_index("ix_rate_limit_hits_window_end", "rate_limit_hits", ["window_end"])
    op.add_column("email_outbox", sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_email_outbox_failed", "email_outbox", ["failed_at"], postgresql_where=sa.text("failed_at IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_email_outbox_failed", "email_outbox")
    op.drop_column("email_outbox", "failed_at")
    op.drop_table("rate_limit_hits")
