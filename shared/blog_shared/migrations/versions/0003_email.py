"""Mail: the transactional outbox and the users' notification preference.

Revision ID: 0003_email
Revises: 0002_posts
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_email"
down_revision = "0002_posts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email_notifications", sa.Boolean, nullable=False, server_default="true"))
    op.create_table(
        "email_outbox",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("recipient_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("data", JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("republished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.UniqueConstraint("idempotency_key", name="uq_email_outbox_key"),
    )
    # The sweeper looks only at unsent mail it has not queued again yet, oldest first.
    op.create_index(
        "ix_email_outbox_unsent",
        "email_outbox",
        ["created_at"],
        postgresql_where=sa.text("sent_at IS NULL AND republished_at IS NULL"),
    )
    op.create_index("ix_email_outbox_sent", "email_outbox", ["sent_at"])  # pruning old rows
    op.create_index("ix_email_outbox_recipient_kind", "email_outbox", ["recipient_id", "kind", "created_at"])


def downgrade() -> None:
    op.drop_table("email_outbox")
    op.drop_column("users", "email_notifications")
