"""``make package``: each app's deployment artifact, with the shared code inside.

Chalice packages only ``app.py``, ``chalicelib/`` and ``vendor/``, so the shared
package is copied into ``<app>/vendor/blog_shared`` (git-ignored) first, then
``chalice package`` writes ``build/<app>/`` (deployment.zip and the SAM template, with
``infra/<app>.merge.json`` merged in when there is one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from devtools import CHALICE

REPO = Path(__file__).resolve().parent.parent
APPS = ("user_api", "post_api", "web_frontend")
SHARED = REPO / "shared" / "blog_shared"


def vendor_shared(app: str) -> None:
    target = REPO / app / "vendor" / "blog_shared"
    shutil.rmtree(target, ignore_errors=True)
    # Migrations run from the tooling, not inside the Lambda functions.
    shutil.copytree(SHARED, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "migrations", "migrate.py"))


def package(app: str, out_dir: Path | None = None, stage: str = "prod") -> Path:
    """Build ``app``'s artifact into ``out_dir`` (default build/<app>); returns the folder."""
    out_dir = out_dir or REPO / "build" / app
    shutil.rmtree(out_dir, ignore_errors=True)
    vendor_shared(app)
    try:
        # `chalice package` only needs a region name to write the template; it calls no AWS API.
        env = {"AWS_DEFAULT_REGION": "us-east-1", **os.environ}
        # requirements.txt is the whole locked set (`make lock`): pip takes exactly that and
        # resolves nothing more (python-jose's unused pure-Python backends stay out).
        env["PIP_NO_DEPS"] = "1"
        # The SQS event source names the stage's queue (as infra/template.yaml creates it).
        env.setdefault("EMAIL_QUEUE_NAME", f"serverless-blog-email-{stage}")
        command = [CHALICE, "package", "--stage", stage]
        merge = REPO / "infra" / f"{app}.merge.json"
        if merge.exists():  # what Chalice cannot say itself, e.g. partial batch responses for SQS
            command += ["--merge-template", str(merge)]
        subprocess.run([*command, str(out_dir)], cwd=REPO / app, env=env, check=True)
    finally:
        # A copy left behind would shadow the live shared/ code under `chalice local`.
        shutil.rmtree(REPO / app / "vendor", ignore_errors=True)
    return out_dir


def main(argv: list[str]) -> int:
    apps = argv or [app for app in APPS if (REPO / app / "app.py").exists()]
    for number, app in enumerate(apps, start=1):
        print(f"[{number}/{len(apps)}] {app}: chalice package (fetches the Lambda wheels of {app}/requirements.txt)")
        out = package(app)
        print(f"[{number}/{len(apps)}] {app}: {out / 'deployment.zip'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
