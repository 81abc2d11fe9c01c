"""Apps served by `chalice local` in subprocesses, for tests over real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from devtools import CHALICE_LOCAL, pg
from devtools.apps import role_environment
from tests.helpers import REPO


def start_chalice_local(
    app: str, env: dict[str, str], log: Path, port: int | None = None, autoreload: bool = False
) -> tuple[subprocess.Popen, str]:
    """``app`` served as ``make dev`` serves it (``autoreload`` as there: a watching parent
    process and a serving child)."""
    port = port or pg.free_port()
    reload = [] if autoreload else ["--no-autoreload"]
    process = subprocess.Popen(
        [*CHALICE_LOCAL, "local", "--host", "127.0.0.1", "--port", str(port), "--stage", "dev", *reload],
        cwd=REPO / app,
        env=role_environment(app, {**os.environ, **env}),  # only the app's own keys and secrets
        stdout=open(log, "wb"),  # noqa: SIM115 - owned by the child
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() ends every process it made
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chalice local exited: {log.read_text()}")
        if pg.port_open(port):
            return process, base
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"chalice local did not start: {log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
