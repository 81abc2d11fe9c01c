"""The one way the apps talk to PostgreSQL.

One engine per Lambda container, created on first use, with a pool that fits
Lambda: a single connection (a container serves one request at a time),
checked with a ping before use so a restarted database is picked up again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .config import get_settings
from .errors import UNAVAILABLE_MESSAGE, ApiError

log = logging.getLogger("blog")

_engine: Engine | None = None


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        settings = get_settings()
        _engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=0,
            pool_pre_ping=True,
            pool_recycle=300,
            pool_timeout=10,
            connect_args={"timeout": 10},
        )
    return _engine


def reset_engine() -> None:
    """Forget the engine (after the settings changed)."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = None


@contextmanager
def transaction() -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error.
    A database that cannot be reached becomes a 503 ApiError."""
    try:
        with Session(get_engine(), expire_on_commit=False) as session, session.begin():
            yield session
    except Exception as error:
        if is_unavailable(error):
            log.warning("database unavailable: %s", error)
            raise ApiError(503, UNAVAILABLE_MESSAGE, headers={"Retry-After": "5"}) from error
        raise


def is_unavailable(error: BaseException) -> bool:
    """True when the error means the database cannot be reached (answer 503, not 500)."""
    if isinstance(error, exc.TimeoutError):  # pool exhausted while the server hangs
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        return isinstance(error, exc.OperationalError | exc.InterfaceError)
    return False
