"""The one way the apps talk to PostgreSQL.

One engine per Lambda container, created on first use, with a pool that fits
Lambda: a single connection (a container serves one request at a time). A connection
that sat idle (a frozen container, a quiet minute) is pinged before use, so a restarted
or failed-over database is picked up again without failing a request; back-to-back
requests skip that round trip. A connection that breaks mid-request is discarded and
the request answers 503.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import URL, create_engine, event, exc, make_url
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable

from .config import ConfigError, get_settings
from .errors import DomainError, UnavailableError

log = logging.getLogger("blog")

_engine: Engine | None = None


def database_url() -> str:
    """``DATABASE_URL``, or, with ``DATABASE_SECRET_ARN``, the URL a Secrets Manager secret
    describes (read once per container): ``{"url": ...}`` (an existing PostgreSQL), or the
    fields RDS keeps for a database (``username``, ``password``, ``host``, ``port``,
    ``dbname``). ``DATABASE_HOST`` replaces the secret's host (e.g. with an RDS Proxy's)."""
    settings = get_settings()
    if not settings.database_secret_arn:
        return settings.database_url
    from . import aws

    raw = aws.client("secretsmanager").get_secret_value(SecretId=settings.database_secret_arn)["SecretString"]
    return url_from_secret(json.loads(raw), settings.database_host)


def url_from_secret(secret: dict[str, Any], host: str | None = None) -> str:
    """A SQLAlchemy URL (pg8000 driver) from a database secret (see :func:`database_url`)."""
    if "url" in secret:
        url = make_url(str(secret["url"]))
    else:
        missing = [key for key in ("username", "password", "host") if not secret.get(key)]
        if missing:
            raise ConfigError(f"the database secret has no {', '.join(missing)}")
        url = URL.create(
            "postgresql+pg8000",
            username=str(secret["username"]),
            password=str(secret["password"]),
            host=str(secret["host"]),
            port=int(secret.get("port") or 5432),
            database=str(secret.get("dbname") or "postgres"),
        )
    if url.get_backend_name() != "postgresql":
        raise ConfigError(f"the database secret names a {url.get_backend_name()} database, not PostgreSQL")
    url = url.set(drivername="postgresql+pg8000")
    if host:
        url = url.set(host=host)
    return url.render_as_string(hide_password=False)


# The authorities of Amazon RDS (Aurora's certificates) and RDS Proxy, shipped with the code
# (devtools/rds_ca.py writes it).
RDS_CA_BUNDLE = Path(__file__).with_name("certs") / "rds-ca-bundle.pem"
# libpq's sslmode values in a DATABASE_URL, as DATABASE_TLS modes (the others are refused:
# "prefer" and "allow" fall back to plain text, "verify-ca" checks no host name).
SSLMODES = {"disable": "off", "require": "require", "verify-full": "verify"}


def connection(url: str, timeout: float | None = 10) -> tuple[str, dict[str, Any]]:
    """The URL for the driver and its options: a socket timeout (pg8000 applies it to every
    read, so None for work that may run long), and TLS as the URL's ``sslmode`` or else
    ``DATABASE_TLS`` asks: ``off``; ``require`` (encrypted, the certificate not checked, as
    libpq's sslmode=require); ``verify`` (sslmode=verify-full: encrypted, and the certificate
    checked, host name included, against RDS's authorities and the system's)."""
    parsed = make_url(url)
    mode = get_settings().database_tls
    if "sslmode" in parsed.query:
        sslmode = parsed.query["sslmode"]
        if not isinstance(sslmode, str) or sslmode not in SSLMODES:
            raise ConfigError(f"sslmode in DATABASE_URL must be one of {', '.join(SSLMODES)}, got {sslmode!r}")
        mode = SSLMODES[sslmode]
        url = parsed.difference_update_query(["sslmode"]).render_as_string(hide_password=False)
    args: dict[str, Any] = {"timeout": timeout}
    if mode != "off":
        context = ssl.create_default_context()
        if mode == "require":
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context.load_verify_locations(cafile=str(RDS_CA_BUNDLE))
        args["ssl_context"] = context
    return url, args


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        settings = get_settings()
        url, args = connection(database_url())
        _engine = create_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=0,
            pool_recycle=300,
            pool_timeout=10,
            hide_parameters=True,  # errors and logs show statements, never their values
            connect_args=args,
        )
        event.listen(_engine, "checkout", _ping_if_idle)
        event.listen(_engine, "checkin", _mark_used)
    return _engine


PING_AFTER_IDLE_SECONDS = 5.0


def _mark_used(dbapi_connection: Any, record: Any) -> None:
    record.info["last_used"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    last_used = record.info.get("last_used")
    if last_used is None or time.monotonic() - last_used < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as error:
        # The pool drops this connection and opens a new one (SQLAlchemy's documented recipe).
        raise exc.DisconnectionError() from error


def reset_engine() -> None:
    """Forget the engine (after the settings changed)."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = None


@contextmanager
def transaction() -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error.
    A database that cannot be reached becomes an UnavailableError."""
    session = Session(get_engine(), expire_on_commit=False)
    try:
        with session, session.begin():
            try:
                yield session
            except Exception as error:
                if not isinstance(error, DomainError | exc.DBAPIError):
                    # Something failed outside the database's own error reporting (e.g. the
                    # driver could not encode a value half-way through a query): the
                    # connection may be out of step, so it is discarded, never reused.
                    session.invalidate()
                raise
    except Exception as error:
        if is_unavailable(error):
            log.warning("database unavailable: %s", error)
            raise UnavailableError() from error
        raise
    for callback in session.info.get(_AFTER_COMMIT, ()):
        try:
            callback()
        except Exception:
            # The transaction is committed: a follow-up step must not turn it into an error.
            log.exception("after-commit step failed")


_AFTER_COMMIT = "after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``session``'s transaction (from ``transaction()``) has committed;
    never if it rolls back. Errors are logged, not raised."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


# SQLSTATEs of a server that went away: admin/crash shutdown, starting up, connection failures.
_UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03", "08")


def sqlstate(error: BaseException) -> str:
    """The PostgreSQL error code behind a driver error ("" when there is none)."""
    orig = getattr(error, "orig", None)
    details = orig.args[0] if orig is not None and orig.args else None
    return details.get("C", "") if isinstance(details, dict) else ""


FOREIGN_KEY_VIOLATION = "23503"


def is_unavailable(error: BaseException) -> bool:
    """True when the error means the database cannot be reached (answer 503, not 500)."""
    if isinstance(error, exc.TimeoutError | exc.DisconnectionError):  # pool exhausted / cannot reconnect
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, exc.OperationalError | exc.InterfaceError):
            return True
        return sqlstate(error).startswith(_UNAVAILABLE_SQLSTATES)
    return False


def row_count(db: Session, statement: Executable, params: dict[str, Any] | None = None) -> int:
    """Run an UPDATE or DELETE; how many rows it touched."""
    result = cast("CursorResult[Any]", db.execute(statement, params or {}))
    return int(result.rowcount or 0)
