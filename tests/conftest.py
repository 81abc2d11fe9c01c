"""Shared fixtures: a real PostgreSQL (embedded, started here unless TEST_DATABASE_URL is
given), the AWS emulator over HTTP, and the Chalice apps loaded in-process.

Nothing here is faked: when a real part cannot be started the tests fail, not skip.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from sqlalchemy import create_engine, text

from blog_shared import db, migrate, tokens
from blog_shared.config import get_settings
from blog_shared.models import Base
from devtools import aws, pg
from devtools.apps import REPO, app_module, load_app
from tests import fake_oauth

PASSWORD = "correct horse battery"
__all__ = ["PASSWORD", "REPO", "Api", "app_module", "load_app"]


def _reset_caches() -> None:
    get_settings.cache_clear()
    tokens.signing_key.cache_clear()
    db.reset_engine()


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
        server.stop()


@pytest.fixture(scope="session")
def aws_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    endpoint, process = aws.ensure_emulator(log_path=tmp_path_factory.mktemp("moto") / "moto.log")
    yield endpoint
    aws.stop(process)


@pytest.fixture(scope="session", autouse=True)
def app_environment(database_url: str, aws_endpoint: str) -> dict[str, str]:
    """The environment the apps run with, as `make dev` would give them."""
    bucket = f"test-avatars-{secrets.token_hex(4)}"
    oauth_port = pg.free_port()
    fake_oauth.start(oauth_port)
    values = {
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "APP_STAGE": "dev",
        # Where the web frontend finds the APIs (started by the api_servers fixture when needed).
        "USER_API_URL": f"http://127.0.0.1:{pg.free_port()}",
        "POST_API_URL": f"http://127.0.0.1:{pg.free_port()}",
        "AVATAR_BUCKET": bucket,
        "AVATAR_BASE_URL": f"{aws_endpoint}/{bucket}",
        "PUBLIC_URL": "http://blog.test",
        **fake_oauth.environment(oauth_port),
        **aws.FAKE_CREDENTIALS,
    }
    os.environ.update(values)
    aws.prepare(aws_endpoint, values)
    _reset_caches()
    return values


@pytest.fixture(autouse=True)
def clean_database(database_url: str) -> Iterator[None]:
    yield
    engine = create_engine(database_url)
    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


class Api:
    """A thin JSON client over ``chalice.test.Client``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)

    # The few steps almost every test needs.
    def register(self, username: str, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        response = self.post(
            "/users", {"username": username, "email": email or f"{username}@example.com", "password": password}
        )
        assert response.status_code == 201, response.json_body
        return response.json_body["data"]

    def login(self, email: str, password: str = PASSWORD) -> str:
        response = self.post("/user-auth", {"email": email, "password": password})
        assert response.status_code == 200, response.json_body
        return response.json_body["access_token"]

    def register_and_login(self, username: str) -> tuple[dict[str, Any], str]:
        user = self.register(username)
        return user, self.login(user["email"])


@pytest.fixture(scope="session")
def user_api_app() -> Any:
    return load_app("user_api").app


@pytest.fixture
def users(user_api_app: Any) -> Iterator[Api]:
    with Client(user_api_app, stage_name="dev", project_dir=str(REPO / "user_api")) as client:
        yield Api(client)


@pytest.fixture(scope="session")
def post_api_app() -> Any:
    return load_app("post_api").app


@pytest.fixture
def posts(post_api_app: Any) -> Iterator[Api]:
    with Client(post_api_app, stage_name="dev", project_dir=str(REPO / "post_api")) as client:
        yield Api(client)


@pytest.fixture(scope="session")
def api_servers(app_environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """user_api and post_api under `chalice local`, where USER_API_URL and POST_API_URL point."""
    from tests.servers import start_chalice_local, stop

    logs = tmp_path_factory.mktemp("api-servers")
    started = []
    for app, variable in (("user_api", "USER_API_URL"), ("post_api", "POST_API_URL")):
        port = int(app_environment[variable].rsplit(":", 1)[1])
        process, _ = start_chalice_local(app, {**app_environment, "DB_POOL_SIZE": "4"}, logs / f"{app}.log", port)
        started.append(process)
    yield {"users": app_environment["USER_API_URL"], "posts": app_environment["POST_API_URL"]}
    for process in started:
        stop(process)
