"""The local stand-in for Lambda's SQS event source mapping (``make dev`` runs it).

It long-polls the mail queue, hands each batch to user_api's ``send_email`` handler as a
real SQS event, and deletes only the messages the handler did not report as failed (the
others come back after the queue's visibility timeout; after 5 receives SQS moves them to
the dead-letter queue). Every minute it also runs the ``republish_stalled_mail`` schedule.
Mail that SES accepted is printed: recipient, subject and links.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devtools import aws, mailbox

Handler = Callable[[dict[str, Any], Any], Any]
SCHEDULE_SECONDS = 60


@dataclass
class Batch:
    received: int = 0
    failed: int = 0


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda passes for a batch of received SQS messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class Worker:
    def __init__(self, handler: Handler, queue_url: str, endpoint: str) -> None:
        self.handler = handler
        self.queue_url = queue_url
        self.sqs = aws.client("sqs", endpoint)
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self.queue_arn = attributes["QueueArn"]

    def poll_once(self, wait_seconds: int = 20) -> Batch:
        """Receive up to 10 messages (waiting up to ``wait_seconds``) and run the handler."""
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds, AttributeNames=["All"]
        )
        messages = answer.get("Messages", [])
        if not messages:
            return Batch()
        event = sqs_event(messages, self.queue_arn, aws.FAKE_CREDENTIALS["AWS_REGION"])
        try:
            result = self.handler(event, None) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception as error:  # noqa: BLE001 - any error of the handler fails the whole batch, as on Lambda
            logging.getLogger("blog.worker").warning("mail batch failed: %s", error)
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return Batch(received=len(messages), failed=len(failed))


def schedule_event() -> dict[str, Any]:
    """The event EventBridge passes to a scheduled function."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "version": "0",
        "id": "local",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": now,
        "region": aws.FAKE_CREDENTIALS["AWS_REGION"],
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/local"],
        "detail": {},
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for name, value in {**aws.FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": aws.DEFAULT_ENDPOINT}.items():
        os.environ.setdefault(name, value)  # the emulator's, when run on its own
    from devtools.apps import load_app, role_environment
    from devtools.dev import dev_secrets

    for name, value in role_environment("user_api", dev_secrets()).items():
        os.environ.setdefault(name, value)  # make dev's keys, when run on its own

    app = load_app("user_api").app
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    worker = Worker(app.handler_map["send_email"], os.environ["EMAIL_QUEUE_URL"], endpoint)
    republish = app.handler_map["republish_stalled_mail"]
    shown = len(mailbox.sent_mails(endpoint))
    next_schedule = time.monotonic() + SCHEDULE_SECONDS
    print(f"polling {worker.queue_url}", flush=True)
    while True:
        try:
            batch = worker.poll_once(wait_seconds=5)
            if time.monotonic() >= next_schedule:
                republish(schedule_event(), None)
                next_schedule = time.monotonic() + SCHEDULE_SECONDS
            if batch.received:
                mails = mailbox.sent_mails(endpoint)
                for mail in mails[shown:]:
                    print("\n".join(mailbox.describe(mail)), flush=True)
                shown = len(mails)
        except KeyboardInterrupt:
            return 0
        except Exception as error:  # noqa: BLE001 - keep polling through a restart of the emulator or database
            print(f"worker: {error}", flush=True)
            time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
