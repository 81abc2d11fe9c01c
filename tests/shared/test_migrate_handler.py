"""The migration function: CloudFormation's custom resource that migrates on every deployment."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from blog_shared import keys, migrate
from tests.helpers import empty_database, reset_caches

# Each test makes and drops a database (about a second); the failure waits out a connect.
pytestmark = pytest.mark.slow


class CloudFormation:
    """Stands in for the pre-signed S3 URL that takes a custom resource's answer."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        answers = self.answers

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def event(self, request_type: str) -> dict[str, Any]:
        return {
            "RequestType": request_type,
            "ResponseURL": f"http://127.0.0.1:{self.server.server_port}/answer?X-Amz-Signature=x",
            "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/blog/1",
            "RequestId": "request-1",
            "LogicalResourceId": "DatabaseMigration",
            "ResourceProperties": {"DeploymentId": "d1"},
        }


@pytest.fixture
def cloudformation() -> Iterator[CloudFormation]:
    stand_in = CloudFormation()
    yield stand_in
    stand_in.server.shutdown()


@pytest.fixture
def empty_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new database, as the apps' DATABASE_URL (how the function finds it, as on AWS)."""
    with empty_database(database_url, "deploy_check") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("APP_STAGE", "prod")  # no keys: the migration function has none
        for name in keys.ALL:
            monkeypatch.delenv(name, raising=False)
        reset_caches()
        yield url
        reset_caches()


def test_a_deployment_migrates_to_the_newest_revision_and_says_so(cloudformation, empty_db):
    migrate.handler(cloudformation.event("Create"), None)
    [answer] = cloudformation.answers
    assert answer["Status"] == "SUCCESS", answer
    assert (answer["RequestId"], answer["LogicalResourceId"]) == ("request-1", "DatabaseMigration")
    engine = create_engine(empty_db)
    assert {"users", "posts", "email_outbox"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    migrate.handler(cloudformation.event("Update"), None)  # the next deployment: nothing new
    assert cloudformation.answers[-1]["Status"] == "SUCCESS"
    assert cloudformation.answers[-1]["PhysicalResourceId"] == answer["PhysicalResourceId"]


def test_a_failed_migration_fails_the_deployment(cloudformation, empty_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+pg8000://postgres@127.0.0.1:1/nothing")
    monkeypatch.setattr(migrate, "WAKE_SECONDS", 1)  # a paused database gets 120 s to wake up
    reset_caches()
    migrate.handler(cloudformation.event("Update"), None)
    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED"
    assert answer["Reason"]


def test_deleting_the_stack_leaves_the_database_alone(cloudformation, empty_db):
    migrate.handler(cloudformation.event("Delete"), None)
    assert cloudformation.answers[0]["Status"] == "SUCCESS"
    engine = create_engine(empty_db)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_an_older_release_leaves_a_newer_schema_alone(cloudformation, empty_db):
    """Deploying an older release again (or rolling back) must not fail on the newer schema."""
    migrate.handler(cloudformation.event("Create"), None)
    engine = create_engine(empty_db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    migrate.handler(cloudformation.event("Update"), None)
    answer = cloudformation.answers[-1]
    assert answer["Status"] == "SUCCESS"
    assert "9999_from_the_future" in answer["Reason"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999_from_the_future"
    engine.dispose()
