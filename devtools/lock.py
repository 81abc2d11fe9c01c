"""``make lock``: resolve the dependencies declared in pyproject.toml into uv.lock, then write
every requirements file from the lock: the dev environment's (pinned, with hashes) and each
app's deployment requirements (pinned with ``==``; ``chalice package`` installs exactly these).

``python -m devtools.lock --check`` changes nothing and fails when the lock no longer fits
pyproject.toml or a requirements file differs from what the lock gives (the tests run it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UV = str(Path(sys.executable).with_name("uv"))
HEADER = "# Generated from uv.lock by `make lock` (declare dependencies in pyproject.toml); do not edit.\n"

# Each requirements file and the dependency group it is exported from.
EXPORTS: dict[str, list[str]] = {
    "requirements-dev.txt": ["--group", "dev"],
    "user_api/requirements.txt": ["--only-group", "user_api", "--no-hashes"],
    "post_api/requirements.txt": ["--only-group", "post_api", "--no-hashes"],
    "web_frontend/requirements.txt": ["--only-group", "web_frontend", "--no-hashes"],
    "shared/requirements-migrate.txt": ["--only-group", "migrate", "--no-hashes"],
}


def exported(arguments: list[str]) -> str:
    """A requirements file's text as the lock gives it (reads uv.lock only: no network)."""
    command = [UV, "export", "--frozen", "--no-header", "--no-emit-project", "--format", "requirements-txt"]
    result = subprocess.run([*command, *arguments], cwd=REPO, capture_output=True, text=True, check=True)
    return HEADER + result.stdout


def stale() -> list[str]:
    """What is out of date: "uv.lock" and/or requirements files (empty when all is current)."""
    problems = []
    check = subprocess.run([UV, "lock", "--check", "--offline"], cwd=REPO, capture_output=True, text=True)
    if check.returncode != 0:
        problems.append(f"uv.lock does not match pyproject.toml:\n{check.stderr.strip()}")
    for name, arguments in EXPORTS.items():
        path = REPO / name
        if not path.exists() or path.read_text() != exported(arguments):
            problems.append(f"{name} differs from uv.lock")
    return problems


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = stale()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run `make lock` and commit the result", file=sys.stderr)
        return 1 if problems else 0
    steps = len(EXPORTS) + 1
    print(f"[1/{steps}] uv lock (resolving pyproject.toml's dependencies)", flush=True)
    subprocess.run([UV, "lock", *argv], cwd=REPO, check=True)
    for number, (name, arguments) in enumerate(EXPORTS.items(), start=2):
        print(f"[{number}/{steps}] {name}", flush=True)
        (REPO / name).write_text(exported(arguments))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
