"""``make lint``: ruff (rules and formatting) over everything, then mypy in strict mode over
shared/ and the tooling, and over each app with its own ``chalicelib`` (three top-level
packages of one name cannot be checked in one run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPS = ("user_api", "post_api", "web_frontend")
CONFIG = str(REPO / "pyproject.toml")


def checks() -> list[tuple[str, list[str], Path, dict[str, str]]]:
    """(title, command, folder, extra environment) of every check, in order."""
    python = sys.executable
    mypy = [python, "-m", "mypy", "--config-file", CONFIG]
    shared_path = {"MYPYPATH": str(REPO / "shared")}
    found: list[tuple[str, list[str], Path, dict[str, str]]] = [
        ("ruff check", [python, "-m", "ruff", "check", "."], REPO, {}),
        ("ruff format --check", [python, "-m", "ruff", "format", "--check", "."], REPO, {}),
        ("mypy shared/", [*mypy, "-p", "blog_shared"], REPO / "shared", {}),
        ("mypy devtools/", [*mypy, "-p", "devtools"], REPO, shared_path),
    ]
    for app in APPS:
        found.append((f"mypy {app}/", [*mypy, "app.py", "chalicelib"], REPO / app, shared_path))
    return found


def main() -> int:
    failed = []
    everything = checks()
    for number, (title, command, folder, extra) in enumerate(everything, start=1):
        print(f"[{number}/{len(everything)}] {title}", flush=True)
        if subprocess.run(command, cwd=folder, env={**os.environ, **extra}).returncode != 0:
            failed.append(title)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
