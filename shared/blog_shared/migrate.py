"""Run the Alembic migrations: ``python -m blog_shared.migrate [upgrade|downgrade|current] [revision]``.

The URL is ``DATABASE_URL`` unless one is passed to :func:`upgrade`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        # ConfigParser treats % as interpolation; URLs may hold percent-encoded passwords.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
