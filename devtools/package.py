"""``make package``: every deployment artifact under ``build/``, and ``build/template.yaml``.

- Each app: Chalice packages only ``app.py``, ``chalicelib/`` and ``vendor/``, so the shared
  package is copied into ``<app>/vendor/blog_shared`` (git-ignored) first, then ``chalice
  package`` writes ``build/<app>/`` (deployment.zip, and sam.json with its routes).
- The migration function: ``build/migrate/deployment.zip``, blog_shared with its migrations
  and the wheels of ``shared/requirements-migrate.txt`` for Lambda's Python.
- ``build/template.yaml``: infra/template.yaml with the apps' routes and artifacts
  (``devtools.stack``).
"""

from __future__ import annotations

import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from devtools import CHALICE, stack

REPO = Path(__file__).resolve().parent.parent
APPS = ("user_api", "post_api", "web_frontend")
SHARED = REPO / "shared" / "blog_shared"


def vendor_shared(app: str) -> None:
    target = REPO / app / "vendor" / "blog_shared"
    shutil.rmtree(target, ignore_errors=True)
    # Migrations run from the tooling, not inside the Lambda functions.
    shutil.copytree(SHARED, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "migrations", "migrate.py"))


# The Chalice stage every artifact is packaged with; the deployment's own stage name is a
# parameter of the template (any name works).
PACKAGE_STAGE = "aws"
# Chalice fetches the wheels of the Python it runs on, so the artifacts are for this Python:
# build/template.yaml declares it as the functions' runtime (devtools.stack).
LAMBDA_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def add_bytecode(archive_path: Path) -> int:
    """Add each module's bytecode for the functions' Python (this one) to the artifact, so a
    cold start does not compile it again (checked by hash, not by the files' times, which
    unzipping changes). Returns how many modules were compiled."""
    with tempfile.TemporaryDirectory() as staging:
        root = Path(staging)
        with zipfile.ZipFile(archive_path) as archive:
            archive.extractall(root)
        compiled = 0
        for source in sorted(root.rglob("*.py")):
            try:
                py_compile.compile(
                    str(source),
                    dfile=source.relative_to(root).as_posix(),
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
                compiled += 1
            except py_compile.PyCompileError:
                continue  # not Python of this version (e.g. a template); never imported
        archive_path.unlink()
        _zip_folder(root, archive_path)
    return compiled


def _zip_folder(root: Path, archive_path: Path) -> None:
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())


def package(app: str, out_dir: Path | None = None, stage: str = PACKAGE_STAGE) -> Path:
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
        command = [CHALICE, "package", "--stage", stage, str(out_dir)]
        subprocess.run(command, cwd=REPO / app, env=env, check=True)
        add_bytecode(out_dir / "deployment.zip")
    finally:
        # A copy left behind would shadow the live shared/ code under `chalice local`.
        shutil.rmtree(REPO / app / "vendor", ignore_errors=True)
    return out_dir


def package_migrations(out_dir: Path | None = None) -> Path:
    """Build the migration function's artifact into ``out_dir`` (default build/migrate)."""
    out_dir = out_dir or REPO / "build" / "migrate"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as staging:
        root = Path(staging)
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
        lambda_wheels = ["--platform", "manylinux2014_x86_64", "--implementation", "cp"]
        lambda_wheels += ["--python-version", LAMBDA_PYTHON, "--only-binary=:all:", "--target", str(root)]
        requirements = REPO / "shared" / "requirements-migrate.txt"
        subprocess.run([*pip, *lambda_wheels, "-r", str(requirements)], check=True)
        shutil.copytree(SHARED, root / "blog_shared", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _zip_folder(root, out_dir / "deployment.zip")
    add_bytecode(out_dir / "deployment.zip")
    return out_dir


def main(argv: list[str]) -> int:
    apps = argv or [app for app in APPS if (REPO / app / "app.py").exists()]
    steps = len(apps) + 2
    for number, app in enumerate(apps, start=1):
        print(f"[{number}/{steps}] {app}: chalice package (fetches the Lambda wheels of {app}/requirements.txt)")
        out = package(app)
        print(f"[{number}/{steps}] {app}: {out / 'deployment.zip'}", flush=True)
    print(f"[{steps - 1}/{steps}] migrate: blog_shared, its migrations and shared/requirements-migrate.txt")
    print(f"[{steps - 1}/{steps}] migrate: {package_migrations() / 'deployment.zip'}", flush=True)
    print(f"[{steps}/{steps}] build/template.yaml: infra/template.yaml with the apps' routes and artifacts")
    print(f"[{steps}/{steps}] {stack.write_template()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
