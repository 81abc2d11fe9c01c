"""Mail for operators: ``make mail-redrive`` and ``make mail-failed``.

- ``redrive``: after an outage (SES, the database) has been fixed, move every message of the
  mail dead-letter queue back to the mail queue it came from. The consumer sends each mail
  at most once, so a message whose mail did go out in the end is dropped harmlessly.
- ``failed``: list the mail SES refused for good (newest first, at most 100), with why;
  ``--retry`` queues them again (say, after fixing the sender's identity).

Where: by default the local system of ``make dev`` (its emulator and database). With
``--stage NAME`` the dead-letter queue is the one of the stack ``serverless-blog-NAME``
(AWS credentials as for the AWS CLI). The database of a stack is in a private network:
run ``failed`` with DATABASE_URL pointing at it from where it can be reached (e.g. through
a Session Manager port forward to the RDS Proxy or the cluster).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from sqlalchemy import create_engine, func, select, update

from blog_shared.db import connection
from blog_shared.models import OutboxMail, User
from devtools import aws, pg
from devtools.deploy import stack_name
from devtools.dev import REPO

BATCH = 10  # SQS's most per call
LISTED = 100


def dead_letter_queue(stage: str | None) -> tuple[Any, str]:
    """An SQS client and the mail dead-letter queue's URL, locally or of the stage's stack."""
    import boto3

    if stage:
        [found] = boto3.client("cloudformation").describe_stacks(StackName=stack_name(stage))["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
        return boto3.client("sqs"), outputs["EmailDeadLetterQueueUrl"]
    endpoint = (os.environ.get("AWS_ENDPOINT_URL") or aws.DEFAULT_ENDPOINT).rstrip("/")
    os.environ.update({k: os.environ.get(k) or v for k, v in aws.FAKE_CREDENTIALS.items()})
    sqs = aws.client("sqs", endpoint)
    name = os.environ.get("EMAIL_QUEUE_NAME", "serverless-blog-email")
    return sqs, sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]


def redrive(sqs: Any, dlq_url: str) -> int:
    """Move every message of the dead-letter queue to its source queue; returns how many."""
    [source] = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"]
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=1, VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            return moved
        entries = [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)]
        sent = sqs.send_message_batch(QueueUrl=source, Entries=entries)
        done = {entry["Id"] for entry in sent.get("Successful", [])}
        gone = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in done]
        if gone:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=gone)
        moved += len(gone)
        if len(gone) < len(messages):  # SQS refused some: leave them for the next run
            failed = [entry["Message"] for entry in sent.get("Failed", [])]
            raise RuntimeError(f"moved {moved}; SQS refused the others: {failed}")


def failed_mail(database_url: str, retry: bool) -> list[dict[str, Any]]:
    """The mail SES refused for good, newest first; with ``retry``, marked to be queued again
    by the next sweep (the scheduled function), which sends each once."""
    url, args = connection(database_url)  # sslmode and DATABASE_TLS as the apps apply them
    engine = create_engine(url, connect_args=args)
    try:
        with engine.begin() as conn:
            rows = conn.execute(
                select(
                    OutboxMail.id,
                    OutboxMail.kind,
                    func.coalesce(OutboxMail.data["to"].astext, User.email).label("email"),
                    OutboxMail.created_at,
                    OutboxMail.failed_at,
                    OutboxMail.last_error,
                )
                .join(User, User.id == OutboxMail.recipient_id)
                .where(OutboxMail.failed_at.is_not(None))
                .order_by(OutboxMail.failed_at.desc())
                .limit(LISTED)
            ).all()
            if retry and rows:
                # Unsent, not failed, never queued again: the sweeper's cue to queue it once more.
                conn.execute(
                    update(OutboxMail)
                    .where(OutboxMail.id.in_([row.id for row in rows]))
                    .values(failed_at=None, republished_at=None, publish_failed_at=OutboxMail.created_at)
                )
    finally:
        engine.dispose()
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "to": row.email,
            "created_at": row.created_at.isoformat(),
            "failed_at": row.failed_at.isoformat(),
            "error": row.last_error,
        }
        for row in rows
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.mailops", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["redrive", "failed"])
    parser.add_argument("--stage", help="the deployed stage (default: the local system of make dev)")
    parser.add_argument("--retry", action="store_true", help="with failed: queue the listed mail again")
    args = parser.parse_args(argv)
    if args.action == "redrive":
        sqs, dlq_url = dead_letter_queue(args.stage)
        print(f"moved {redrive(sqs, dlq_url)} message(s) from {dlq_url} back to the mail queue")
        return 0
    url = os.environ.get("DATABASE_URL")
    server = None
    if not url:
        if args.stage:
            print("DATABASE_URL must reach the stage's database (see the README)", file=sys.stderr)
            return 2
        server = pg.EmbeddedPostgres(pg.dev_data_dir(REPO), int(os.environ.get("DEV_DB_PORT", "54329")))
        server.start()
        url = server.url
    try:
        rows = failed_mail(url, args.retry)
    finally:
        if server is not None and server.started_here:
            server.stop()
    for row in rows:
        print(json.dumps(row))
    print(f"{len(rows)} mail(s) refused for good" + (", queued again" if args.retry and rows else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
