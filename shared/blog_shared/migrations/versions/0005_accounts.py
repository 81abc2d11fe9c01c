"""Accounts: the canonical email (compared in Python's terms, unique) and its confirmation.

Revision ID: 0005_accounts
Revises: 0004_limits
Create Date: 2026-11-26
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005_accounts"
down_revision = "0004_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email_canonical", sa.String(254), nullable=True))
    op.add_column("users", sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    users = sa.table(
        "users", sa.column("id", sa.Integer), sa.column("email", sa.String), sa.column("email_canonical", sa.String)
    )
    connection = op.get_bind()
    # Computed here as the code computes it (blog_shared.users.canonical_email), not by SQL's
    # lower(), which under the C collation leaves "Ä" as it is.
    rows = connection.execute(sa.select(users.c.id, users.c.email)).all()
    for user_id, email in rows:
        canonical = unicodedata.normalize("NFC", email.strip()).lower()
        connection.execute(users.update().where(users.c.id == user_id).values(email_canonical=canonical))
    op.alter_column("users", "email_canonical", nullable=False)
    # Accounts made before confirmation existed keep getting their mail.
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    op.drop_index("uq_users_email_lower", "users")
    op.create_index("uq_users_email_canonical", "users", ["email_canonical"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_email_canonical", "users")
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.drop_column("users", "email_confirmed_at")
    op.drop_column("users", "email_canonical")
