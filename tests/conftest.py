"""Shared fixtures: a real PostgreSQL (embedded, started here unless TEST_DATABASE_URL is
given), the AWS emulator over HTTP, and the Chalice apps loaded in-process.

Nothing here is faked: when a real part cannot be started the tests fail, not skip.

Every server is opt-in: PostgreSQL starts with the first test that asks for `database_url`,
the emulator with the first that asks for `aws_endpoint`, the OAuth stand-ins (and both of
the others) with `app_environment`, which the app fixtures (`users`, `posts`, `mail_flow`,
`browser`, ...) ask for. A test asking for none of them starts nothing. Helpers to import
live in tests/helpers.py.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chalice.test import Client
from sqlalchemy import create_engine, event, text

from blog_shared import db, keys, migrate
from blog_shared.models import Base
from devtools import aws, local, pg
from tests import fake_oauth
from tests.helpers import REPO, SES_SENDER, Api, MailFlow, load_app, reset_caches

# The in-process test client routes as API Gateway and `make dev` do (greedy path variables).
local.install()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    server = None
    if not url:
        server = pg.temporary_server()
        url = server.url
    migrate.upgrade(url)
    yield url
    db.reset_engine()
    if server is not None:
        server.discard()


@pytest.fixture(scope="session")
def empty_database(database_url: str) -> Iterator[Callable[[], None]]:
    """Empties every table and restarts their id sequences, like ``TRUNCATE ... RESTART
    IDENTITY``, in one round trip on a kept connection: DELETE on a few rows takes a few ms,
    where TRUNCATE (new files for every table and index) took ~40 ms after every test."""
    engine = create_engine(database_url, pool_size=1, pool_pre_ping=True)
    tables = [table.name for table in Base.metadata.sorted_tables]
    with engine.connect() as conn:
        sequences = conn.execute(
            text(
                "SELECT s.oid::regclass::text FROM pg_class s"
                " JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i')"
                " JOIN pg_class t ON t.oid = d.refobjid"
                " WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"
            ),
            {"tables": tables},
        ).scalars()
        restarts = "".join(f"ALTER SEQUENCE {name} RESTART; " for name in sequences)
    deletes = "".join(f"DELETE FROM {name}; " for name in reversed(tables))  # children first
    statement = text(f"DO $$ BEGIN {deletes}{restarts}END $$")

    def empty() -> None:
        with engine.begin() as conn:
            conn.execute(statement)

    yield empty
    engine.dispose()


@pytest.fixture(autouse=True)
def clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the database (it or one of its fixtures asked for `database_url`),
    empty the tables. For any other test this does nothing and starts nothing."""
    empty = request.getfixturevalue("empty_database") if "database_url" in request.fixturenames else None
    yield
    if empty is not None:
        empty()


@pytest.fixture(scope="session")
def aws_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    endpoint, process = aws.ensure_emulator(log_path=tmp_path_factory.mktemp("moto") / "moto.log")
    yield endpoint
    aws.stop(process)


@pytest.fixture(scope="session")
def aws_environment(aws_endpoint: str) -> dict[str, str]:
    """The emulator's address and fake credentials in the environment, where the code's AWS
    clients (blog_shared.aws) find them."""
    values = {"AWS_ENDPOINT_URL": aws_endpoint, **aws.FAKE_CREDENTIALS}
    os.environ.update(values)
    reset_caches()
    return values


@pytest.fixture(scope="session")
def app_environment(database_url: str, aws_environment: dict[str, str]) -> dict[str, str]:
    """The environment the apps run with, as `make dev` would give them."""
    aws_endpoint = aws_environment["AWS_ENDPOINT_URL"]
    bucket = f"test-avatars-{secrets.token_hex(4)}"
    oauth_port = pg.free_port()
    fake_oauth.start(oauth_port)
    values = {
        "DATABASE_URL": database_url,
        **keys.generate_values(),
        "APP_STAGE": "dev",
        # Where the web frontend finds the APIs (started by the api_servers fixture when needed).
        "USER_API_URL": f"http://127.0.0.1:{pg.free_port()}",
        "POST_API_URL": f"http://127.0.0.1:{pg.free_port()}",
        "AVATAR_BUCKET": bucket,
        "AVATAR_BASE_URL": f"{aws_endpoint}/{bucket}",
        "PUBLIC_URL": "http://blog.test",
        **fake_oauth.environment(oauth_port),
        **aws_environment,
    }
    # A queue of its own (a `make dev` may share the emulator), quick to retry in tests.
    values["EMAIL_QUEUE_URL"], _dlq = aws.prepare_mail(
        aws_endpoint, f"test-email-{secrets.token_hex(4)}", SES_SENDER, visibility_timeout=1
    )
    values["SES_SENDER"] = SES_SENDER
    os.environ.update(values)
    aws.prepare(aws_endpoint, values)
    reset_caches()
    return values


@pytest.fixture(scope="session")
def user_api_app(app_environment: dict[str, str]) -> Any:
    return load_app("user_api").app


@pytest.fixture
def users(user_api_app: Any) -> Iterator[Api]:
    with Client(user_api_app, stage_name="dev", project_dir=str(REPO / "user_api")) as client:
        yield Api(client)


@pytest.fixture(scope="session")
def post_api_app(app_environment: dict[str, str]) -> Any:
    return load_app("post_api").app


@pytest.fixture
def posts(post_api_app: Any) -> Iterator[Api]:
    with Client(post_api_app, stage_name="dev", project_dir=str(REPO / "post_api")) as client:
        yield Api(client)


@pytest.fixture(scope="session")
def api_servers(app_environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """user_api and post_api under `chalice local`, where USER_API_URL and POST_API_URL point
    (``users`` and ``posts``; ``user_api_pid`` and ``post_api_pid`` are their processes)."""
    from tests.servers import start_chalice_local, stop

    logs = tmp_path_factory.mktemp("api-servers")
    started = {}
    for app, variable in (("user_api", "USER_API_URL"), ("post_api", "POST_API_URL")):
        port = int(app_environment[variable].rsplit(":", 1)[1])
        process, _ = start_chalice_local(app, {**app_environment, "DB_POOL_SIZE": "4"}, logs / f"{app}.log", port)
        started[app] = process
    yield {
        "users": app_environment["USER_API_URL"],
        "posts": app_environment["POST_API_URL"],
        **{f"{app}_pid": str(process.pid) for app, process in started.items()},
    }
    for process in started.values():
        stop(process)


@pytest.fixture
def mail_flow(app_environment: dict[str, str], user_api_app: Any) -> MailFlow:
    return MailFlow(
        app_environment["AWS_ENDPOINT_URL"], app_environment["EMAIL_QUEUE_URL"], user_api_app.handler_map["send_email"]
    )


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL statements the apps run while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)
