"""``make migrate``: apply the migrations to DATABASE_URL, or to the embedded dev database."""

from __future__ import annotations

import os
import sys

from blog_shared import migrate
from devtools import pg
from devtools.dev import REPO


def main() -> int:
    url = os.environ.get("DATABASE_URL")
    server = None
    if not url:
        server = pg.EmbeddedPostgres(pg.dev_data_dir(REPO), int(os.environ.get("DEV_DB_PORT", "54329")))
        server.start()
        url = server.url
    try:
        migrate.upgrade(url)
        print(f"migrated {url}")
    finally:
        if server is not None and server.started_here:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
