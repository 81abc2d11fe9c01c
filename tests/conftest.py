"""Shared fixtures: a real PostgreSQL (embedded, started here unless TEST_DATABASE_URL is
given), the AWS emulator over HTTP, and the Chalice apps loaded in-process.

Nothing here is faked: when a real part cannot be started the tests fail, not skip.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from sqlalchemy import create_engine, text

from blog_shared import aws as aws_clients
from blog_shared import db, mail, migrate, tokens
from blog_shared.config import get_settings
from blog_shared.models import Base
from devtools import aws, pg
from devtools.apps import REPO, app_module, load_app
from tests import fake_oauth

PASSWORD = "correct horse battery"
SES_SENDER = "Serverless Blog <no-reply@blog.test>"
__all__ = ["PASSWORD", "REPO", "Api", "app_module", "load_app"]


def _reset_caches() -> None:
    get_settings.cache_clear()
    tokens.signing_key.cache_clear()
    aws_clients.client.cache_clear()
    mail.queue_url.cache_clear()
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
    # A queue of its own (a `make dev` may share the emulator), quick to retry in tests.
    values["EMAIL_QUEUE_URL"], _dlq = aws.prepare_mail(
        aws_endpoint, f"test-email-{secrets.token_hex(4)}", SES_SENDER, visibility_timeout=1
    )
    values["SES_SENDER"] = SES_SENDER
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


class MailFlow:
    """The mail pipeline as the tests see it: the queue the apps publish to, the dev worker
    feeding user_api's SQS handler, and the mail the emulator's SES accepted."""

    def __init__(self, endpoint: str, queue_url: str, handler: Any) -> None:
        from devtools.worker import Worker

        self.endpoint = endpoint
        self.sqs = aws.client("sqs", endpoint)
        self.queue_url = queue_url
        self.dlq_url = self.sqs.get_queue_url(QueueName=queue_url.rsplit("/", 1)[1] + "-dlq")["QueueUrl"]
        for url in (self.queue_url, self.dlq_url):
            self.empty(url)
        self.worker = Worker(handler, queue_url, endpoint)
        self.handler = handler
        self._seen = len(self.all_sent())

    def empty(self, url: str) -> None:
        """Delete what earlier tests left, also what is in flight (PurgeQueue is allowed once a
        minute); in-flight messages come back within the test queues' 1 s visibility timeout."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if batch:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
                self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            elif self.pending(url) == 0:
                return
            else:
                time.sleep(0.3)
        raise AssertionError(f"{url} did not empty")

    def pending(self, url: str) -> int:
        """Messages on the queue: visible, in flight or delayed (read in one call, so a message
        turning visible between two reads is not missed)."""
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in names)

    def all_sent(self) -> list[Any]:
        """Mail the tests' sender sent (a `make dev` may share the emulator)."""
        from devtools.mailbox import sent_mails

        return [mail for mail in sent_mails(self.endpoint) if SES_SENDER in mail.headers.get("From", "")]

    def sent(self) -> list[Any]:
        """Mail sent since this test began."""
        return self.all_sent()[self._seen :]

    def queued(self, url: str | None = None) -> list[dict[str, Any]]:
        """The messages waiting on the queue (received and made visible again at once)."""
        url = url or self.queue_url
        messages: dict[str, dict[str, Any]] = {}
        for _ in range(5):
            answer = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
            batch = answer.get("Messages", [])
            if not batch:
                break
            messages.update({m["MessageId"]: m for m in batch})
        for message in messages.values():
            self.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return [json.loads(m["Body"]) for m in messages.values()]

    def worker_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The SQS event Lambda would pass for these received messages."""
        from devtools.worker import sqs_event

        return sqs_event(messages, self.worker.queue_arn, aws.FAKE_CREDENTIALS["AWS_REGION"])

    def deliver(self, max_polls: int = 20) -> None:
        """Run the worker until the queue is empty (waiting out retries)."""
        for _ in range(max_polls):
            batch = self.worker.poll_once(wait_seconds=0)
            if batch.received == 0:
                if self.pending(self.queue_url) == 0:
                    return
                time.sleep(0.5)
        raise AssertionError(f"the queue still had messages after {max_polls} polls")


@pytest.fixture
def mail_flow(app_environment: dict[str, str], user_api_app: Any) -> MailFlow:
    return MailFlow(
        app_environment["AWS_ENDPOINT_URL"], app_environment["EMAIL_QUEUE_URL"], user_api_app.handler_map["send_email"]
    )
