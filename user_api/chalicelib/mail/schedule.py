"""The deployment's one scheduled chore (a Lambda function run every minute, no HTTP routes):
posts that have gone live are counted and announced to their authors' followers, mail whose
message never reached SQS is queued again, and stale rows are swept."""

from __future__ import annotations

import logging
import time

from chalice.app import Blueprint, CloudWatchEvent, Rate

from blog_shared import limits, mail, publishing
from blog_shared.config import check_at_startup
from blog_shared.db import transaction

from ..auth import store as auth_store

# Lambda imports this module directly (the function is not in app.py); it signs nothing.
check_at_startup("republish_mail")
log = logging.getLogger("blog.mail")
log.setLevel(logging.INFO)
bp = Blueprint(__name__)
GO_LIVE_ROUNDS = 10  # at most 500 posts a minute go live; more wait for the next run
GO_LIVE_SECONDS = 15  # and the rest of the function's 50 s are left to the sweeper


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def republish_stalled_mail(event: CloudWatchEvent) -> None:
    """The deployment's one scheduled chore. Catch up on posts that went live (a scheduled
    post joins the counts; followers are mailed about every new post); queue again the mail
    whose message never reached SQS (it was down) or was lost; and forget what has gone
    stale: rate-limit counts of ended windows, failed logins past their window, revocations
    of expired tokens."""
    started = time.monotonic()
    for _ in range(GO_LIVE_ROUNDS):
        with transaction() as db:
            handled = publishing.go_live_due(db)
        if handled < publishing.GO_LIVE_BATCH or time.monotonic() - started > GO_LIVE_SECONDS:
            break
    mail.republish_stalled()
    with transaction() as db:
        swept = limits.sweep(db) + auth_store.sweep_stale(db)
    if swept:
        log.info("swept %d stale rows", swept)
