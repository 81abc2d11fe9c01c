"""Users, follows, revoked tokens and login attempts.

Revision ID: 0001_users
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_users"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(20), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("from_oauth", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("image_filename", sa.String(255), nullable=True),
        sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "char_length(username) BETWEEN 2 AND 20 AND username ~ '^[A-Za-z0-9_.-]+$'",
            name="ck_users_username_format",
        ),
        sa.CheckConstraint("position('@' in email) > 1", name="ck_users_email_format"),
        sa.CheckConstraint("from_oauth OR password_hash IS NOT NULL", name="ck_users_has_login"),
    )
    # Usernames and emails are unique whatever their case ("Ann" cannot sign up beside "ann").
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)

    op.create_table(
        "follows",
        sa.Column("follower_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("followed_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("follower_id <> followed_id", name="ck_follows_not_self"),
    )
    op.create_index("ix_follows_followed_follower", "follows", ["followed_id", "follower_id"])

    op.create_table(
        "revoked_tokens",
        sa.Column("jti", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"])

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_login_attempts_email_time", "login_attempts", ["email", "attempted_at"])


def downgrade() -> None:
    op.drop_table("login_attempts")
    op.drop_table("revoked_tokens")
    op.drop_table("follows")
    op.drop_table("users")
