"""``make rotate-keys``: a new key signs access tokens from now on; the one it replaces is still
accepted, so nobody is logged out (the key before that is dropped: rotate at most once per
``REMEMBER_TOKEN_TTL``, 30 days, to keep every "remember me" session).

    python -m devtools.rotate_keys                 the local system's keys (.devdb/secrets.json)
    python -m devtools.rotate_keys --stage prod    a deployed stack's: its ManageAccessKeys
                                                   function makes the key inside AWS
"""

from __future__ import annotations

import argparse
import json
import sys

from blog_shared import keys
from devtools import dev
from devtools.deploy import client, stack_name


def rotate_local() -> str:
    values = dev.dev_secrets()
    new = keys.rotate(values.get, values.__setitem__)
    dev.write_dev_secrets(values)
    return new.kid


def rotate_stage(stage: str) -> str:
    """Invoke the stack's key function: the private key never leaves AWS."""
    answer = client("lambda").invoke(
        FunctionName=f"{stack_name(stage)}-access-keys", Payload=json.dumps({"action": "rotate"}).encode()
    )
    payload = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError") or not isinstance(payload, dict) or "kid" not in payload:
        raise SystemExit(f"the rotation failed: {payload}")
    return str(payload["kid"])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make rotate-keys", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", help="a deployed stage (default: the local system)")
    options = parser.parse_args(argv)
    if options.stage:
        kid = rotate_stage(options.stage)
        print(f"{stack_name(options.stage)}: access tokens are now signed with key {kid}; the previous key")
        print("is still accepted. Running functions pick the new keys up within 5 minutes.")
    else:
        kid = rotate_local()
        print(f"{dev.SECRETS_FILE}: access tokens are signed with key {kid} once `make dev` is restarted;")
        print("the previous key is still accepted.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
