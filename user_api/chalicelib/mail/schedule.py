"""The deployment's one scheduled chore (a Lambda function run every minute, no HTTP routes):
mail whose message never reached SQS is queued again, and stale rows are swept."""

from __future__ import annotations

import logging

from chalice.app import Blueprint, CloudWatchEvent, Rate

from blog_shared import limits, mail
from blog_shared.config import check_at_startup
from blog_shared.db import transaction

from ..auth import store as auth_store

# Lambda imports this module directly (the function is not in app.py); it signs nothing.
check_at_startup("republish_mail")
log = logging.getLogger("blog.mail")
log.setLevel(logging.INFO)
bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def republish_stalled_mail(event: CloudWatchEvent) -> None:
    """Queue again the mail whose message never reached SQS (it was down) or was lost; and,
    as the deployment's one scheduled chore, forget what has gone stale: rate-limit counts of
    ended windows, failed logins past their window, revocations of expired tokens."""
    mail.republish_stalled()
    with transaction() as db:
        swept = limits.sweep(db) + auth_store.sweep_stale(db)
    if swept:
        log.info("swept %d stale rows", swept)
