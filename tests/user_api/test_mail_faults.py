"""Mail when SES misbehaves, seen over HTTP: an endpoint in front of the emulator answers
chosen SendRawEmail calls with SES's own errors (throttling, a refusal), as AWS would, and
passes every other call through. And the operators' commands for what is left over."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from blog_shared import mail
from devtools import mailops
from tests.helpers import reset_caches

pytestmark = pytest.mark.slow

THROTTLING = ("Throttling", "Maximum sending rate exceeded.")
REJECTED = ("MessageRejected", "Address blacklisted.")


class FaultySes:
    """The emulator's address with a fault injector in front: SendRawEmail calls are answered
    with the queued ``errors`` (code, message) first, then passed through."""

    def __init__(self, upstream: str) -> None:
        self.errors: list[tuple[str, str]] = []
        self.sends = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if b"Action=SendRawEmail" in body:
                    outer.sends += 1
                    if outer.errors:
                        code, message = outer.errors.pop(0)
                        xml = (
                            '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error>'
                            f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                            "</Error><RequestId>fault</RequestId></ErrorResponse>"
                        ).encode()
                        self._answer(400, {"Content-Type": "text/xml"}, xml)
                        return
                answer = requests.post(upstream + self.path, data=body, headers=dict(self.headers), timeout=30)
                self._answer(
                    answer.status_code, {"Content-Type": answer.headers.get("Content-Type", "")}, answer.content
                )

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def faulty_ses(mail_flow, monkeypatch) -> Iterator[FaultySes]:
    """The mail consumer's AWS calls go through a FaultySes (the tests' own clients do not)."""
    faulty = FaultySes(mail_flow.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", faulty.url)
    reset_caches()
    yield faulty
    monkeypatch.undo()
    reset_caches()
    faulty.server.shutdown()


def outbox_row(database_url: str) -> dict[str, Any]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        [row] = conn.execute(text("SELECT * FROM email_outbox")).mappings().all()
    engine.dispose()
    return dict(row)


def test_throttling_is_waited_out_inside_the_handler(users, mail_flow, faulty_ses, database_url):
    faulty_ses.errors = [THROTTLING, THROTTLING]
    users.register("ann")
    mail_flow.deliver()
    assert faulty_ses.sends == 3 and [m.to for m in mail_flow.sent()] == ["ann <ann@example.com>"]
    row = outbox_row(database_url)
    assert row["sent_at"] is not None and row["failed_attempts"] == 0  # no message went back to SQS


def test_lasting_throttling_gives_the_message_back_for_later(users, mail_flow, faulty_ses, database_url):
    faulty_ses.errors = [THROTTLING] * 4  # every attempt of the first delivery
    users.register("ann")
    mail_flow.deliver()
    assert faulty_ses.sends == 5 and len(mail_flow.sent()) == 1
    row = outbox_row(database_url)
    assert row["sent_at"] is not None and row["failed_attempts"] == 1 and "Throttling" in row["last_error"]


def test_a_refused_address_fails_at_once_and_operators_can_list_and_retry_it(
    users, mail_flow, faulty_ses, database_url, caplog
):
    faulty_ses.errors = [REJECTED]
    users.register("ann")
    with caplog.at_level(logging.WARNING, logger="blog.mail"):
        mail_flow.deliver()
    # The line the template's MailRefusedMetric counts (an alarm tells the operators).
    assert any("refused for good" in record.getMessage() for record in caplog.records)
    assert "ann@example.com" not in caplog.text
    assert faulty_ses.sends == 1 and mail_flow.sent() == []  # not retried five times
    assert mail_flow.queued() == [] and mail_flow.queued(mail_flow.dlq_url) == []
    row = outbox_row(database_url)
    assert row["failed_at"] is not None and row["sent_at"] is None and "MessageRejected" in row["last_error"]
    assert mail.republish_stalled(lost_after_seconds=0) == 0  # the sweeper leaves it alone
    [listed] = mailops.failed_mail(database_url, retry=False)
    assert listed["to"] == "ann@example.com" and listed["kind"] == "welcome"
    assert listed["error"] == "SES refused the message: MessageRejected"  # no addresses in it
    # Once the cause is fixed, the operator queues it again; the next sweep sends it once.
    assert len(mailops.failed_mail(database_url, retry=True)) == 1
    assert mailops.failed_mail(database_url, retry=False) == []
    assert mail.republish_stalled() == 1
    mail_flow.deliver()
    assert [m.to for m in mail_flow.sent()] == ["ann <ann@example.com>"]


def test_redrive_moves_dead_letters_back_to_the_mail_queue(users, mail_flow, database_url):
    users.register("ann")
    [message] = mail_flow.queued()
    mail_flow.empty(mail_flow.queue_url)
    mail_flow.sqs.send_message(QueueUrl=mail_flow.dlq_url, MessageBody=json.dumps(message))
    assert mailops.redrive(mail_flow.sqs, mail_flow.dlq_url) == 1
    assert mail_flow.queued(mail_flow.dlq_url) == [] and mail_flow.queued() == [message]
    mail_flow.deliver()
    assert [m.to for m in mail_flow.sent()] == ["ann <ann@example.com>"]
