"""The migrations build the schema, with its constraints in the database, and run both ways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from blog_shared import migrate
from tests.helpers import empty_database


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
