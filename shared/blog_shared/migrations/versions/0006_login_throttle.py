"""Failed logins carry their client address (throttling per address and per account).

Revision ID: 0006_login_throttle
Revises: 0005_accounts
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_login_throttle"
down_revision = "0005_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("login_attempts", sa.Column("client", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_login_attempts_client_time", "login_attempts", ["client", "attempted_at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempts_client_time", "login_attempts")
    op.drop_column("login_attempts", "client")
