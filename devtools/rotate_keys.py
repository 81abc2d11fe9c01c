"""``make rotate-keys``: a new key signs access tokens; the ones it replaces are still accepted
until the tokens they signed expire, so nobody is logged out. ``--revoke`` (after a leak)
drops them instead, ending every session.

    python -m devtools.rotate_keys                 the local system's keys (.devdb/secrets.json)
    python -m devtools.rotate_keys --stage prod    a deployed stack's: its ManageAccessKeys
                                                   function makes the key inside AWS, and it
                                                   signs once every function has read it
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from blog_shared import keys
from blog_shared.config import get_settings
from devtools import dev
from devtools.deploy import client, stack_name


def rotate_local(revoke: bool) -> keys.SigningKey:
    """The local system's keys: ``make dev`` reads them when it starts, so the new key signs
    at once (after a restart)."""
    values = dev.dev_secrets()
    longest = max(get_settings().access_token_ttl, get_settings().remember_token_ttl)
    new = keys.rotate(keys.DictStore(values), longest, delay=0, revoke=revoke)
    dev.write_dev_secrets(values)
    return new


def rotate_stage(stage: str, revoke: bool) -> dict[str, object]:
    """Invoke the stack's key function: the private key never leaves AWS."""
    event = {"action": "rotate", "revoke": revoke}
    answer = client("lambda").invoke(
        FunctionName=f"{stack_name(stage)}-access-keys", Payload=json.dumps(event).encode()
    )
    payload = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError") or not isinstance(payload, dict) or "kid" not in payload:
        raise SystemExit(f"the rotation failed: {payload}")
    return payload


# The HMAC secrets by the names the template gives them.
HMAC_RESOURCES = {
    "LinkSecret": keys.LINK_SECRET,
    "ServiceSecret": keys.SERVICE_SECRET,
    "UserApiClientSecret": keys.USER_API_CLIENT_SECRET,
    "PostApiClientSecret": keys.POST_API_CLIENT_SECRET,
    "CookieSecret": keys.COOKIE_SECRET,
}


def rotate_secret(resource: str, stage: str | None) -> None:
    """A new value for an HMAC secret; the old one is still accepted (as ``previous``) until
    the next rotation of that secret."""
    if stage is None:
        values = dev.dev_secrets()
        values[HMAC_RESOURCES[resource]] = keys.rotate_hmac_secret(values[HMAC_RESOURCES[resource]])
        dev.write_dev_secrets(values)
        return
    arn = client("cloudformation").describe_stack_resource(StackName=stack_name(stage), LogicalResourceId=resource)[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    manager = client("secretsmanager")
    current = manager.get_secret_value(SecretId=arn)["SecretString"]
    manager.put_secret_value(SecretId=arn, SecretString=keys.rotate_hmac_secret(current))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make rotate-keys", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", help="a deployed stage (default: the local system)")
    parser.add_argument("--revoke", action="store_true", help="after a leak: drop every other key (ends every session)")
    parser.add_argument("--secret", choices=sorted(HMAC_RESOURCES), help="rotate this HMAC secret instead")
    options = parser.parse_args(argv)
    if options.secret:
        rotate_secret(options.secret, options.stage)
        print(f"{options.secret}: a new value signs; the previous one is still accepted until its next rotation.")
        return 0
    kept = (
        "every other key is dropped: every session has ended"
        if options.revoke
        else "the previous key is still accepted"
    )
    if options.stage:
        answer = rotate_stage(options.stage, options.revoke)
        when = time.strftime("%H:%M:%S UTC", time.gmtime(float(str(answer["signs_from"]))))
        print(f"{stack_name(options.stage)}: key {answer['kid']} signs access tokens from {when}; {kept}.")
    else:
        new = rotate_local(options.revoke)
        print(f"{dev.SECRETS_FILE}: key {new.kid} signs access tokens once `make dev` is restarted; {kept}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
