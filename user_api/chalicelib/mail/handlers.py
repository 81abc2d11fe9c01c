"""The mail consumer: Lambda functions fed by SQS and by a schedule (no HTTP routes).

``send_email`` receives batches from the mail queue. Each message names an outbox row;
the row is locked, composed, sent through SES and marked sent in one transaction, so a
redelivered message sends nothing and a failed send leaves the row unsent. Failed
messages are reported back (partial batch response) and only they are retried; after 5
receives SQS moves a message to the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, cast

from chalice.app import Blueprint, CloudWatchEvent, Rate, SQSEvent

from blog_shared import aws, mail
from blog_shared.config import EMAIL_QUEUE_NAME, check_at_startup, get_settings
from blog_shared.db import transaction

from . import store
from .compose import compose

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Lambda imports this module directly (the handlers' functions are not in app.py).
check_at_startup()
log = logging.getLogger("blog.mail")
log.setLevel(logging.INFO)  # Lambda's default is WARNING: keep a line per mail sent
bp = Blueprint(__name__)


@bp.on_sqs_message(queue=EMAIL_QUEUE_NAME, batch_size=10)
def send_email(event: SQSEvent) -> dict[str, Any]:
    """Answers ``{"batchItemFailures": [...]}`` naming the messages to retry."""
    # Imported here: the HTTP function of this app never loads the batch utilities.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    answer = process_partial_response(
        event=event.to_dict(),
        record_handler=deliver,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=cast("LambdaContext | None", event.context),  # Lambda's context object
    )
    return dict(answer)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def republish_stalled_mail(event: CloudWatchEvent) -> None:
    """Queue again the mail whose message never reached SQS (it was down) or was lost."""
    mail.republish_stalled()


def deliver(record: SQSRecord) -> None:
    """Send the mail a message names, unless it was sent already. Raises to have it retried."""
    try:
        key = json.loads(record.body)["key"]
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"not a mail message: {record.body[:200]!r}") from error
    failure: Exception | None = None
    with transaction() as db:
        outbox = store.lock_unsent(db, key)
        if outbox is None:
            log.info("mail %s: already sent, nothing to do", key)
            return
        message = compose(db, outbox)
        try:
            if message is not None:
                send(message)
        except Exception as error:  # noqa: BLE001 - whatever SES or the network raised: count it, retry
            failure = error
            store.note_failure(db, outbox, error)  # committed, then raised below
        else:
            store.mark_sent(db, outbox)
    if failure is not None:
        log.warning("mail %s: sending failed, SQS will retry: %s", key, failure)
        raise failure
    log.info("mail %s: %s", key, "sent" if message is not None else "dropped (no longer wanted)")


def send(message: EmailMessage) -> None:
    """Hand one message to SES (its recipients are taken from the headers)."""
    # One quick attempt: a failure is retried by SQS, and a hung SES must not use up the
    # function's time for the whole batch.
    aws.client("ses", quick=True).send_raw_email(
        Source=get_settings().ses_sender, RawMessage={"Data": message.as_bytes()}
    )
