"""The function that makes and rotates the access-token signing key on AWS (the private key
never leaves Secrets Manager and this function).

- As the ``AccessKeys`` custom resource of every deployment: makes the first key when the
  secret holds none yet (Create and Update), and leaves the keys alone otherwise.
- Invoked with ``{"action": "rotate"}`` (``make rotate-keys STAGE=...``): a new key signs from
  now on; the one it replaces is still accepted, so nobody is logged out (see
  ``blog_shared.keys.rotate``).
"""

from __future__ import annotations

import logging
from typing import Any

from chalice.app import Blueprint

from blog_shared import custom_resource, keys

log = logging.getLogger("blog.keys")
log.setLevel(logging.INFO)
bp = Blueprint(__name__)
PHYSICAL_ID = "access-keys"


@bp.lambda_function(name="ManageAccessKeys")
def manage_access_keys(event: dict[str, Any], context: Any) -> dict[str, str] | None:
    if "RequestType" not in event:
        if event.get("action") != "rotate":
            raise ValueError('expected a CloudFormation event or {"action": "rotate"}')
        read, write = keys.in_secrets_manager()
        new = keys.rotate(read, write)
        log.info("access keys rotated: tokens are now signed with %s", new.kid)
        return {"kid": new.kid}
    status, reason = "SUCCESS", "nothing to do"
    try:
        if event["RequestType"] in ("Create", "Update"):
            read, write = keys.in_secrets_manager()
            if keys.has_signing_key(read):
                reason = "the signing key exists: left as it is"
            else:
                reason = f"made the first signing key, {keys.rotate(read, write).kid}"
    except Exception as error:  # any failure must reach CloudFormation, not only the log
        log.exception("access keys failed")
        status, reason = "FAILED", f"{type(error).__name__}: {error}"[:500]
    log.info("access keys %s: %s", status, reason)
    custom_resource.respond(event, status, reason, PHYSICAL_ID)
    return None
