"""The migrations build the schema, with its constraints in the database, and run both ways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from blog_shared import migrate
from tests.helpers import app_module, empty_database


@pytest.fixture
def scratch_db(database_url) -> Iterator[str]:
    """A new, empty database on the test server."""
    with empty_database(database_url, "migration_check") as url:
        yield url


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


@pytest.mark.slow
def test_upgrade_downgrade_upgrade(scratch_db):
    engine = create_engine(scratch_db)
    migrate.upgrade(scratch_db)
    assert {"users", "follows", "revoked_tokens", "login_attempts", "alembic_version"} <= _tables(engine)
    migrate.downgrade(scratch_db)
    assert _tables(engine) == {"alembic_version"}
    migrate.upgrade(scratch_db)
    assert "users" in _tables(engine)
    engine.dispose()


USERS = "INSERT INTO users (username, email, email_canonical, password_hash) VALUES "


@pytest.mark.parametrize(
    "statement",
    [
        USERS + "('a', 'a@example.com', 'a@example.com', 'h')",
        USERS + "('bad name', 'b@example.com', 'b@example.com', 'h')",
        USERS + "('noemail', 'example.com', 'example.com', 'h')",
        USERS + "('nopass', 'n@example.com', 'n@example.com', NULL)",
        USERS + "('ANN', 'other@example.com', 'other@example.com', 'h')",
        USERS + "('other', 'ANN@example.com', 'ann@example.com', 'h')",
        "INSERT INTO follows (follower_id, followed_id) VALUES (1, 1)",
        "INSERT INTO follows (follower_id, followed_id) VALUES (1, 999)",
        "INSERT INTO follows (follower_id, followed_id) VALUES (1, 2), (1, 2)",
    ],
)
def test_constraints_live_in_the_database(database_url, statement):
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, email, email_canonical, password_hash) VALUES "
                "('ann', 'ann@example.com', 'ann@example.com', 'h'), ('bob', 'bob@example.com', 'bob@example.com', 'h')"
            )
        )
    with pytest.raises(DBAPIError) as raised, engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()
    assert raised.value.orig.args[0]["C"].startswith("23")  # SQLSTATE class 23: integrity constraint violation


def test_follows_are_indexed_both_ways(database_url):
    engine = create_engine(database_url)
    inspector = inspect(engine)
    assert inspector.get_pk_constraint("follows")["constrained_columns"] == ["follower_id", "followed_id"]
    indexes = {tuple(index["column_names"]) for index in inspector.get_indexes("follows")}
    assert ("followed_id", "follower_id") in indexes
    engine.dispose()


def test_the_models_and_the_migrations_describe_the_same_schema(scratch_db):
    """No drift: Alembic's autogenerate comparison finds nothing to add, drop or alter
    between the migrated database and the SQLAlchemy models (tables, columns, types,
    nullability, server defaults, indexes, unique and foreign keys)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from blog_shared.models import Base

    migrate.upgrade(scratch_db)
    engine = create_engine(scratch_db)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


LEGACY = "INSERT INTO users (username, email, password_hash) VALUES (:name, :email, 'h')"


def test_addresses_stored_before_validation_are_found_by_a_login_after_it(scratch_db, app_environment):
    """Accounts from before email-validator: a punycode domain, mixed case, an address
    today's rules refuse. Migration 0005 gives each the canonical form a login computes."""
    login_key = app_module("user_api", "chalicelib.users.emails").login_key
    migrate.upgrade(scratch_db, "0004_limits")
    engine = create_engine(scratch_db)
    stored = {"puny": "Zoe@XN--B-1GA.de", "mixed": "Max.Power@Example.COM", "local": "old@printer.local"}
    with engine.begin() as conn:
        for name, email in stored.items():
            conn.execute(text(LEGACY), {"name": name, "email": email})
    migrate.upgrade(scratch_db)
    with engine.connect() as conn:
        canonical = dict(conn.execute(text("SELECT username, email_canonical FROM users")).all())
    engine.dispose()
    typed = {"puny": "zoe@bö.de", "mixed": "max.power@example.com", "local": "Old@printer.local"}
    assert canonical == {name: login_key(address) for name, address in typed.items()}
    assert canonical["puny"] == login_key("zoe@xn--b-1ga.de")  # typed as stored, too


def test_accounts_differing_only_in_unicode_case_stop_the_migration_with_their_ids(scratch_db):
    migrate.upgrade(scratch_db, "0004_limits")
    engine = create_engine(scratch_db)
    with engine.begin() as conn:  # lower() under the C collation leaves "Ä": 0004's index allowed both
        conn.execute(text(LEGACY), {"name": "upper", "email": "Ärger@example.de"})
        conn.execute(text(LEGACY), {"name": "lower", "email": "ärger@example.de"})
        ids = conn.execute(text("SELECT id FROM users ORDER BY id")).scalars().all()
    engine.dispose()
    with pytest.raises(RuntimeError, match=f"ids {ids[0]}, {ids[1]}\\): change or merge"):
        migrate.upgrade(scratch_db)


def test_posts_written_before_markdown_stay_plain_text(scratch_db):
    """Migration 0007: an older post's HTML is its text, escaped, in paragraphs (it was not
    written as Markdown); its excerpt and slug are made as for new posts."""
    migrate.upgrade(scratch_db, "0006_login_throttle")
    engine = create_engine(scratch_db)
    with engine.begin() as conn:
        conn.execute(text(USERS + "('old', 'old@example.com', 'old@example.com', 'h')"))
        conn.execute(
            text("INSERT INTO posts (user_id, title, content) VALUES (1, 'Ünïcode *stars*', :content)"),
            {"content": "Line *one*\nline <b>two</b>\n\n\nSecond & last"},
        )
    migrate.upgrade(scratch_db)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT content_html, excerpt, slug FROM posts")).one()
    engine.dispose()
    assert row.content_html == "<p>Line *one*<br>line &lt;b&gt;two&lt;/b&gt;</p>\n<p>Second &amp; last</p>\n"
    assert row.excerpt == "Line *one* line <b>two</b> Second & last"
    assert row.slug == "unicode-stars"
