"""Cold starts, part of ``make bench``: for each function, the time from a new Python process
to its first answered event, run from its own extracted artifact as shipped (bytecode
included), beside the floor: a new process of the same interpreter that only imports the
third-party modules that function loaded (every one of them, submodules included). Both are
medians of a few runs; the ratio is what our own code adds. Also the artifacts' sizes
(Lambda's limits: 50 MB zipped, 250 MB unzipped).

``python -m devtools.coldstart`` runs it alone (it packages first, into a temp folder).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from blog_shared import keys

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "9"))

# Imports the handler, answers one event, reports the third-party packages it loaded.
FIRST_EVENT = r"""
import importlib, json, sys
folder = sys.argv[1]
sys.path[:0] = [folder, sys.argv[2]]
module_name, _, attribute = sys.argv[3].rpartition(".")
before = set(sys.modules)
handler = getattr(importlib.import_module(module_name), attribute)
answer = handler(json.loads(sys.argv[4]), None)
loaded = sorted(set(sys.modules) - before)
print(json.dumps({"answer": answer, "loaded": loaded}))
"""
# The floor: the same interpreter and path, importing only those libraries' modules.
IMPORTS_ONLY = r"""
import importlib, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
for name in sys.stdin.read().split():
    importlib.import_module(name)
"""


def top_level_packages(folder: Path) -> set[str]:
    """The importable top-level names of the third-party distributions in an artifact."""
    names: set[str] = set()
    for record in folder.glob("*.dist-info/RECORD"):
        for line in record.read_text().splitlines():
            first = line.split(",", 1)[0].split("/", 1)[0]
            if first.endswith((".dist-info", ".data")) or first in ("..", "bin", "__pycache__"):
                continue
            names.add(first.removesuffix(".py").split(".")[0])
    return names


def _timed(command: list[str], env: dict[str, str], cwd: Path, stdin: str = "") -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, input=stdin)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{command[3:5]} failed: {result.stderr[-2000:]}")
    return elapsed, result.stdout


def measure(
    name: str, artifact: Path, handler: str, event: dict[str, Any], env: dict[str, str], work: Path, runtime: Path
) -> dict[str, Any]:
    folder = work / name
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(folder)
    base = [sys.executable, "-I"]
    cold_times, loaded = [], []
    for _ in range(RUNS):
        elapsed, out = _timed(
            [*base, "-c", FIRST_EVENT, str(folder), str(runtime), handler, json.dumps(event)], env, folder
        )
        cold_times.append(elapsed)
        report = json.loads(out.strip().splitlines()[-1])
        answer = report["answer"]
        if isinstance(answer, dict) and int(answer.get("statusCode", 200)) >= 500:
            raise RuntimeError(f"{name} answered {answer}")
        loaded = report["loaded"]
    third_party = top_level_packages(folder)
    modules = [module for module in loaded if module.split(".")[0] in third_party]
    floor_times = [
        _timed([*base, "-c", IMPORTS_ONLY, str(folder), str(runtime)], env, folder, "\n".join(modules))[0]
        for _ in range(RUNS)
    ]
    cold, floor = statistics.median(cold_times), statistics.median(floor_times)
    libraries = sorted({module.split(".")[0] for module in modules})
    return {"name": name, "cold": cold * 1000, "floor": floor * 1000, "ratio": cold / floor, "libraries": libraries}


def sizes(build: Path) -> list[tuple[str, int, int]]:
    """(artifact, zipped bytes, unzipped bytes) of every artifact under ``build``."""
    found = []
    for artifact in sorted(build.glob("*/deployment.zip")):
        with zipfile.ZipFile(artifact) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        found.append((artifact.parent.name, artifact.stat().st_size, unzipped))
    return found


def run(database_url: str, build: Path) -> int:
    """Measure every function of ``build/template.yaml`` but the migration's (it answers
    CloudFormation, not requests), against the database at ``database_url``."""
    from devtools.bench import proxy_event
    from devtools.worker import schedule_event

    template = json.loads((build / "template.yaml").read_text())
    unknown_mail = {
        "Records": [
            {
                "messageId": "cold-1",
                "receiptHandle": "r",
                "body": json.dumps({"key": "cold-start:none", "kind": "like"}),
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:blog-email",
                "awsRegion": "us-east-1",
            }
        ]
    }
    events = {
        "UserApiFunction": proxy_event("GET", "/users/{user_id}", "/users/1", None, path_params={"user_id": "1"}),
        "PostApiFunction": proxy_event("GET", "/posts", "/posts", None),
        "WebFunction": proxy_event("GET", "/about", "/about", None),
        "SendEmailFunction": unknown_mail,
        "RepublishStalledMailFunction": schedule_event(),
    }
    env = {
        "PATH": "/usr/bin:/bin",
        "APP_STAGE": "bench",
        "DATABASE_URL": database_url,
        **keys.generate_values(),  # every function's keys (each reads only its own)
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "EMAIL_QUEUE_URL": "http://127.0.0.1:9/queue/unused",  # nothing is queued by these events
        # Outside dev the apps start only with https addresses of other machines (never called here).
        "PUBLIC_URL": "https://blog.example.com",
        "USER_API_URL": "https://users.blog.example.com/api",
        "POST_API_URL": "https://posts.blog.example.com/api",
        "PYTHONDONTWRITEBYTECODE": "1",  # as on Lambda: nothing written next to the code
    }
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        runtime = runtime_libraries(work / "runtime")
        for name, event in events.items():
            properties = template["Resources"][name]["Properties"]
            rows.append(measure(name, build / properties["CodeUri"], properties["Handler"], event, env, work, runtime))
    print(f"\n{'cold start (new process to first answer)':<42}{'floor ms':>10}{'cold ms':>10}{'cold/floor':>12}")
    print("-" * 74)
    for row in rows:
        print(f"{row['name']:<42}{row['floor']:>10.0f}{row['cold']:>10.0f}{row['ratio']:>11.2f}x")
    for row in rows:
        print(f"  {row['name']}: {', '.join(row['libraries']) or '(no third-party libraries)'}")
    print(f"\n{'artifact':<16}{'zipped MB':>11}{'unzipped MB':>13}   (Lambda: 50 MB zipped, 250 MB unzipped)")
    for name, zipped, unzipped in sizes(build):
        print(f"{name:<16}{zipped / 1e6:>11.1f}{unzipped / 1e6:>13.1f}")
    return 0


# What Lambda's Python runtime provides besides the artifact (boto3 is not packaged).
RUNTIME_LIBRARIES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def runtime_libraries(folder: Path) -> Path:
    """A folder holding only boto3 and its own dependencies (linked from this environment),
    to put on a function's path after its artifact, as Lambda's runtime does."""
    import boto3

    site = Path(boto3.__file__).resolve().parent.parent
    folder.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_LIBRARIES:
        if not (folder / name).exists():
            (folder / name).symlink_to(site / name)
    return folder


def main() -> int:
    from blog_shared import migrate
    from devtools import package, pg, stack

    with tempfile.TemporaryDirectory() as scratch:
        build = Path(scratch)
        for app in package.APPS:
            package.package(app, build / app)
        package.package_migrations(build / "migrate")
        outputs = {app: json.loads((build / app / "sam.json").read_text()) for app in package.APPS}
        (build / "template.yaml").write_text(json.dumps(stack.build_template(outputs)))
        server = pg.temporary_server()
        try:
            migrate.upgrade(server.url)
            return run(server.url, build)
        finally:
            server.discard()


if __name__ == "__main__":
    sys.exit(main())
