"""A schemathesis check of tests/test_fuzz.py (loaded by tests/schemathesis.toml).

schemathesis' ``positive_data_acceptance`` fails any 400 to a request the description calls
valid. A few of our 400s answer valid requests on purpose, for rules no OpenAPI description
can state: which names are free, which tokens we signed, and the one pair of query parameters
that goes together badly. The config lets 400 pass that check, and this one takes it back:
a 400 to a valid request must be one of these refusals, and nothing else."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case

REFUSALS_NO_DESCRIPTION_STATES = {
    # The state of the data.
    "This username has been taken.",
    "This email has been taken.",
    "The current password is wrong.",
    "Not a picture uploaded for this account.",
    "You cannot follow yourself.",
    "You cannot unfollow yourself.",
    # The clock: a schedule must lie ahead.
    "publish_at is a time in the future, within a year.",
    # Tokens and cursors: only what this deployment signed or answered is one.
    "This unsubscribe link is not valid.",
    "That is an invalid or expired token",
    "Not a cursor from this API.",
    "This link is not valid (or not any more).",
    # A field another one makes required (OpenAPI 3.0 has no "dependentRequired"): a new
    # email or password needs the current password.
    "Enter your current password to change your email or password.",
    # Query parameters that only go together one way (OpenAPI 3.0 has no "one of" for them).
    "Username or email argument not provided",
    "Use one of user, author, tag and q.",
    "Search results are paged by page number, not by cursor.",
    "With with_html, at most 20 posts a page.",
    "Drafts and scheduled posts are listed with author (your own username).",
}


class ValidDataRefused(Failure):
    kind_title = "Schema-valid request refused for a reason the description does not state"


@schemathesis.check
def refuses_valid_data_only_for_unstatable_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or is_unexpected_http_status_case(case):
        return None
    if response.status_code != 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        body = {}
    errors = body.get("errors") if isinstance(body, dict) else None
    reasons = [m for ms in errors.values() for m in ms] if isinstance(errors, dict) else [body.get("message")]
    unstatable = [reason for reason in reasons if reason in REFUSALS_NO_DESCRIPTION_STATES]
    if reasons and len(unstatable) == len(reasons):
        return None
    raise ValidDataRefused(operation=case.operation.label, message=f"[400] {response.text}")
