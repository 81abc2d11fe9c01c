"""The mail consumer: a Lambda function fed by SQS (no HTTP routes).

``send_email`` receives batches from the mail queue (the schedule that queues stalled mail
again is in ``schedule.py``). Each message names an outbox row;
the row is locked, composed, sent through SES and marked sent in one transaction, so a
redelivered message sends nothing and a failed send leaves the row unsent. Failed
messages are reported back (partial batch response) and only they are retried; after 5
receives SQS moves a message to the dead-letter queue.

SES throttling is waited out here first (a few short, jittered back-offs) before the message
is given back. An address SES refuses for good (``MessageRejected``, an invalid address) marks
the mail failed at once: no retries, no dead-letter alarm; ``make mail-failed`` lists it.
"""

from __future__ import annotations

import json
import logging
import random
import time
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, cast

from chalice.app import Blueprint, SQSEvent

from blog_shared import aws
from blog_shared.config import EMAIL_QUEUE_NAME, check_at_startup, get_settings
from blog_shared.db import transaction

from . import store
from .compose import compose

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Lambda imports this module directly (the handlers' functions are not in app.py).
check_at_startup("send_email", addresses=("PUBLIC_URL",))  # the link secret; https links in mail
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
            log.info("mail %s: already sent or failed for good, nothing to do", key)
            return
        message = compose(db, outbox)
        try:
            if message is not None:
                send(message)
        except MailRefusedError as error:
            store.mark_failed(db, outbox, error)
            log.warning("mail %s: refused for good, not retried: %s", key, error)
            return
        except Exception as error:  # noqa: BLE001 - whatever SES or the network raised: count it, retry
            failure = error
            store.note_failure(db, outbox, error)  # committed, then raised below
        else:
            store.mark_sent(db, outbox)
    if failure is not None:
        log.warning("mail %s: sending failed, SQS will retry: %s", key, failure)
        raise failure
    log.info("mail %s: %s", key, "sent" if message is not None else "dropped (no longer wanted)")


# SES's error codes for sending too fast (worth a short wait) and for a message no attempt
# will get through (an address it refuses).
THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException"})
REFUSED = frozenset({"MessageRejected", "InvalidParameterValue"})
THROTTLE_BACKOFF = (0.2, 0.5, 1.0)  # seconds before each new attempt, times a jitter of 0.5-1


class MailRefusedError(Exception):
    """SES refused this message for good."""


def send(message: EmailMessage) -> None:
    """Hand one message to SES (its recipients are taken from the headers). Throttling is
    retried after short back-offs, then raised for SQS to retry later; a refusal raises
    :class:`MailRefusedError`."""
    from botocore.exceptions import ClientError  # with boto3: only mail functions load it

    # Quick attempts: a hung SES must not use up the function's time for the whole batch.
    ses = aws.client("ses", quick=True)
    for backoff in (*THROTTLE_BACKOFF, None):
        try:
            ses.send_raw_email(Source=get_settings().ses_sender, RawMessage={"Data": message.as_bytes()})
            return
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in REFUSED:
                # The code only: SES's message names the addresses, which stay out of logs.
                raise MailRefusedError(f"SES refused the message: {code}") from error
            if code not in THROTTLED or backoff is None:
                raise
            log.info("SES throttled a send; trying again in about %.1f s", backoff)
            time.sleep(backoff * random.uniform(0.5, 1))
