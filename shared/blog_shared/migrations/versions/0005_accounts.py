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
    by_canonical: dict[str, list[int]] = {}
    for user_id, email in rows:
        canonical = legacy_canonical(email)
        by_canonical.setdefault(canonical, []).append(user_id)
        connection.execute(users.update().where(users.c.id == user_id).values(email_canonical=canonical))
    clashes = [ids for ids in by_canonical.values() if len(ids) > 1]
    if clashes:
        # Fails the deployment (it rolls back) with the accounts to settle by hand, rather than
        # with the unique index's bare error.
        raise RuntimeError(
            "accounts whose addresses differ only in case or Unicode form (ids "
            + "; ".join(", ".join(map(str, ids)) for ids in clashes[:20])
            + "): change or merge all but one of each, then deploy again"
        )
    op.alter_column("users", "email_canonical", nullable=False)
    # Accounts made before confirmation existed keep getting their mail.
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    op.drop_index("uq_users_email_lower", "users")
    op.create_index("uq_users_email_canonical", "users", ["email_canonical"], unique=True)


def legacy_canonical(email: str) -> str:
    """An address stored before addresses were validated, as the code compares it today: the
    domain's punycode labels decoded (email-validator normalises ``xn--`` domains to Unicode,
    so that is what a login computes), then NFC and lower case."""
    local, at, domain = email.strip().rpartition("@")
    labels = []
    for label in domain.split("."):
        try:
            labels.append(label.lower().encode("ascii").decode("idna") if label.lower().startswith("xn--") else label)
        except UnicodeError:  # not valid punycode: compared as stored
            labels.append(label)
    return unicodedata.normalize("NFC", f"{local}{at}{'.'.join(labels)}").lower()


def downgrade() -> None:
    op.drop_index("uq_users_email_canonical", "users")
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.drop_column("users", "email_confirmed_at")
    op.drop_column("users", "email_canonical")
