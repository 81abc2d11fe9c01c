"""Run the Alembic migrations: ``python -m blog_shared.migrate [upgrade|downgrade|current] [revision]``,
or on AWS as the deployment's migration function (:func:`handler`, a CloudFormation custom
resource that runs before the apps' new code goes live).

The URL is the apps' own (``DATABASE_URL``, or ``DATABASE_SECRET_ARN``) unless one is passed
to :func:`upgrade`.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, exc, text
from sqlalchemy.pool import NullPool

from . import custom_resource, db

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; URLs may hold percent-encoded passwords.
    config.set_main_option("sqlalchemy.url", (database_url or db.database_url()).replace("%", "%%"))
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "upgrade"
    config = alembic_config()
    if action == "upgrade":
        command.upgrade(config, argv[1] if len(argv) > 1 else "head")
    elif action == "downgrade":
        command.downgrade(config, argv[1] if len(argv) > 1 else "-1")
    elif action == "current":
        command.current(config, verbose=True)
    elif action == "history":
        command.history(config)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


WAKE_SECONDS = 120
log = logging.getLogger("blog.migrate")
log.setLevel(logging.INFO)
PHYSICAL_ID = "database-schema"


def handler(event: dict[str, Any], context: Any) -> None:
    """The migration custom resource: on Create and Update (every deployment), upgrade to the
    newest revision; on Delete, leave the database alone. CloudFormation is told the outcome,
    so a failed migration fails the deployment, which then rolls back."""
    status, reason = "SUCCESS", "nothing to do"
    try:
        if event["RequestType"] in ("Create", "Update"):
            url = db.database_url()
            wait_for_database(url)
            newer = revision_unknown_here(url)
            if newer:
                # An older release deployed again (or a rollback): its code runs on the newer
                # schema, which migrations only ever extend.
                reason = f"the schema is at {newer}, newer than this release's migrations: left as it is"
            else:
                upgrade(url)
                reason = "migrated to the newest revision"
    except Exception as error:  # any failure must reach CloudFormation, not only the log
        log.exception("migration failed")
        status, reason = "FAILED", f"{type(error).__name__}: {error}"[:500]
    log.info("migration %s: %s", status, reason)
    custom_resource.respond(event, status, reason, PHYSICAL_ID)


def wait_for_database(url: str, seconds: float | None = None) -> None:
    """Connect until the database answers (for ``WAKE_SECONDS``): a paused Aurora takes 15 to
    30 s or more to resume."""
    plain_url, args = db.connection(url, timeout=30)
    engine = create_engine(plain_url, poolclass=NullPool, connect_args=args)
    deadline = time.monotonic() + (WAKE_SECONDS if seconds is None else seconds)
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except exc.DBAPIError:
                if time.monotonic() > deadline:
                    raise
                log.info("database not answering yet; trying again")
                time.sleep(3)
    finally:
        engine.dispose()


def revision_unknown_here(url: str) -> str | None:
    """The database's revision when this code's migrations do not know it (a newer release
    migrated it), else None."""
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config(url)).walk_revisions()}
    plain_url, args = db.connection(url)
    engine = create_engine(plain_url, poolclass=NullPool, connect_args=args)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    return current if current is not None and current not in known else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
