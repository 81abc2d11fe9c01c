"""The function that makes and rotates the access-token signing key on AWS (the private key
never leaves Secrets Manager and this function). Two kinds of events:

- CloudFormation's, as the ``AccessKeys`` custom resource: on Create, and on every Update
  (its properties name the two secrets, so a replaced secret is an Update), it makes the
  first key when the signing secret holds none, and leaves existing keys alone.
- ``{"action": "rotate"}`` from ``make rotate-keys STAGE=...``: see :func:`rotate_keys`.
"""

from __future__ import annotations

import logging
from typing import Any

from chalice.app import Blueprint

from blog_shared import custom_resource, keys
from blog_shared.config import get_settings

log = logging.getLogger("blog.keys")
log.setLevel(logging.INFO)
bp = Blueprint(__name__)
PHYSICAL_ID = "access-keys"
MAX_DELAY = 24 * 3600


def _store() -> keys.SecretsManagerStore:
    names = (keys.ACCESS_SIGNING_KEY, keys.ACCESS_PUBLIC_KEYS)
    return keys.SecretsManagerStore({name: keys.source.environ(f"{name}_ARN") or "" for name in names})


def _longest_token() -> float:
    settings = get_settings()
    return float(max(settings.access_token_ttl, settings.remember_token_ttl))


@bp.lambda_function(name="ManageAccessKeys")
def manage_access_keys(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    if "RequestType" in event:
        answer_cloudformation(event)
        return None
    if event.get("action") == "rotate":
        return rotate_keys(event)
    raise ValueError('expected a CloudFormation event or {"action": "rotate"}')


def rotate_keys(event: dict[str, Any]) -> dict[str, Any]:
    """A new key, signing after ``activate_after_seconds`` (default: once every app has read
    it), the old one accepted until its tokens expire. ``"revoke": true`` (after a leak):
    the new key signs at once and every other key is dropped, ending every session."""
    revoke = event.get("revoke") is True
    delay = event.get("activate_after_seconds", keys.ACTIVATION_DELAY)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY:
        raise ValueError(f"activate_after_seconds must be a number of seconds from 0 to {MAX_DELAY}")
    new = keys.rotate(_store(), _longest_token(), delay=float(delay), revoke=revoke)
    log.info("access keys rotated: key %s signs from %.0f%s", new.kid, new.not_before, " (others revoked)" * revoke)
    return {"kid": new.kid, "signs_from": int(new.not_before), "revoked_others": revoke}


def answer_cloudformation(event: dict[str, Any]) -> None:
    status, reason = "SUCCESS", "nothing to do"
    try:
        if event["RequestType"] in ("Create", "Update"):
            store = _store()
            if keys.has_signing_key(store):
                reason = "the signing key exists: left as it is"
            else:
                reason = f"made the first signing key, {keys.rotate(store, _longest_token()).kid}"
    except Exception as error:  # any failure must reach CloudFormation, not only the log
        log.exception("access keys failed")
        status, reason = "FAILED", f"{type(error).__name__}: {error}"[:500]
    log.info("access keys %s: %s", status, reason)
    custom_resource.respond(event, status, reason, PHYSICAL_ID)
