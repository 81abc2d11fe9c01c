"""``make dev``'s port check: a port taken by another program stops it at once, before
PostgreSQL or the emulator is started, with one line naming the port and the variable that
moves it.

Every port is moved to a free one through the environment (``make dev`` may well be running
on 8000-8002, 54329 and 4566 on this machine), and nothing here needs a database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devtools import dev, pg
from devtools.apps import REPO

VARIABLES = ("WEB_PORT", "USER_API_PORT", "POST_API_PORT", "DEV_DB_PORT")


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports nobody listens on (held together while chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_environment() -> dict[str, str]:
    """Every port ``make dev`` uses, moved to a free one."""
    web, user, post, database, emulator = free_ports(5)
    return {
        "WEB_PORT": str(web),
        "USER_API_PORT": str(user),
        "POST_API_PORT": str(post),
        "DEV_DB_PORT": str(database),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{emulator}",
    }


@contextmanager
def occupied(port: int) -> Iterator[socket.socket]:
    """Another program's server on ``port``: a plain listening socket that never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield sock


def run_dev(ports: dict[str, str]) -> tuple[int, list[str], float]:
    """``python -m devtools.dev`` with these ports: exit code, output lines, seconds taken."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", *VARIABLES, "AWS_ENDPOINT_URL")}
    env.update(ports)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "devtools.dev"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return result.returncode, lines, time.monotonic() - started


def assert_one_line_about(lines: list[str], port: int, variable: str) -> None:
    assert len(lines) == 1, lines
    assert f"port {port} " in lines[0]
    assert variable in lines[0]
    assert "Traceback" not in lines[0]


@pytest.mark.parametrize("variable", VARIABLES)
def test_a_taken_port_stops_make_dev_at_once_naming_the_variable(variable: str) -> None:
    ports = port_environment()
    port = int(ports[variable])
    with occupied(port):
        code, lines, seconds = run_dev(ports)
    assert code != 0
    assert_one_line_about(lines, port, variable)
    assert seconds < 5  # nothing was started: PostgreSQL alone takes longer


@pytest.mark.slow  # asking the program on the port whether it is an emulator takes a second
def test_a_port_taken_by_something_other_than_an_aws_emulator_stops_make_dev() -> None:
    ports = port_environment()
    port = int(ports["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
    with occupied(port):
        code, lines, seconds = run_dev(ports)
    assert code != 0
    assert_one_line_about(lines, port, "AWS_ENDPOINT_URL")
    assert seconds < 10


# -- the check itself, in this process ---------------------------------------------------------------


def test_free_ports_are_no_problem() -> None:
    assert dev.port_problems(port_environment()) == []


class _MotoLike(BaseHTTPRequestHandler):
    """Answers as moto's server does where ``make dev`` tells an emulator apart."""

    def do_GET(self) -> None:
        ok = self.path == "/moto-api/data.json"
        body = b"{}" if ok else b"not found"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_aws_emulator_already_answering_is_reused() -> None:
    ports = port_environment()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MotoLike)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        ports["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{server.server_address[1]}"
        assert dev.port_problems(ports) == []
    finally:
        server.shutdown()
        server.server_close()


def test_the_database_port_is_not_checked_when_database_url_replaces_the_server() -> None:
    ports = port_environment()
    with occupied(int(ports["DEV_DB_PORT"])):
        assert dev.port_problems(ports) != []
        assert dev.port_problems({**ports, "DATABASE_URL": "postgresql+pg8000://u@db.example/blog"}) == []


def test_two_services_on_one_port_and_a_port_that_is_no_number() -> None:
    ports = port_environment()
    assert dev.port_problems({**ports, "POST_API_PORT": ports["WEB_PORT"]}) == [
        f"WEB_PORT and POST_API_PORT are both {ports['WEB_PORT']}; set POST_API_PORT to another port"
    ]
    assert dev.port_problems({**ports, "DEV_DB_PORT": "5432x"}) == [
        "DEV_DB_PORT='5432x' is not a port number (1-65535)"
    ]


def test_a_port_recorded_by_another_data_directory_is_not_ours(tmp_path: Path) -> None:
    """The running server of a data directory is recognised by the port in its postmaster.pid."""
    server = pg.EmbeddedPostgres(tmp_path / "data", free_ports(1)[0])
    assert server.recorded_port() is None
    assert not server.holds_port()
    server.data_dir.mkdir()
    (server.data_dir / "postmaster.pid").write_text(f"4242\n{server.data_dir}\n1700000000\n{server.port + 1}\n\n")
    assert server.recorded_port() == server.port + 1
    assert not server.holds_port()  # another port: not asked whether it runs
