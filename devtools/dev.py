"""``make dev``: the whole system on this machine.

Starts (or reuses) the embedded PostgreSQL under ``.devdb/``, finds or starts the AWS
emulator (with the mail queues and SES sender), runs the migrations, then runs every app
with ``chalice local``: web_frontend on 8000, user_api on 8001, post_api on 8002
(WEB_PORT, USER_API_PORT, POST_API_PORT override them), and the mail worker
(``devtools.worker``), which prints every mail sent. Logs are streamed with a prefix per process; Ctrl-C
stops everything this command started. ``DATABASE_URL`` replaces the embedded server.

Before anything starts, every port is checked: one taken by another program stops the command
with one line per port naming the variable that moves it (DEV_DB_PORT, default 54329, for the
database; AWS_ENDPOINT_URL for the emulator). This checkout's own running PostgreSQL, and
LocalStack or moto answering at AWS_ENDPOINT_URL, are reused. The set-up is shown in counted
steps ([1/5] ... [5/5]).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Collection, Mapping
from pathlib import Path

from blog_shared import keys
from devtools import CHALICE_LOCAL, aws, pg
from devtools.apps import role_environment

REPO = Path(__file__).resolve().parent.parent
DEVDB = REPO / ".devdb"
APPS = (("web_frontend", "WEB_PORT", 8000), ("user_api", "USER_API_PORT", 8001), ("post_api", "POST_API_PORT", 8002))
DEFAULT_DB_PORT = 54329
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
COLOURS = {"web_frontend": "35", "user_api": "36", "post_api": "33", "mail": "34", "dev": "32"}


def say(prefix: str, line: str) -> None:
    colour = COLOURS.get(prefix, "0")
    label = f"\033[{colour}m{prefix:>12} |\033[0m" if sys.stdout.isatty() else f"{prefix:>12} |"
    sys.stdout.write(f"{label} {line}\n")
    sys.stdout.flush()


SECRETS_FILE = DEVDB / "secrets.json"


def dev_secrets() -> dict[str, str]:
    """The apps' keys and secrets, made once and kept in .devdb/secrets.json (never committed;
    ``make rotate-keys`` rotates its access key)."""
    if not SECRETS_FILE.exists():
        write_dev_secrets(keys.generate_values())
    values: dict[str, str] = json.loads(SECRETS_FILE.read_text())
    return values


def write_dev_secrets(values: Mapping[str, str]) -> None:
    DEVDB.mkdir(exist_ok=True)
    partial = SECRETS_FILE.with_suffix(".tmp")
    partial.unlink(missing_ok=True)  # made afresh, so only its owner may ever read it
    partial.touch(mode=0o600)
    partial.write_text(json.dumps(dict(values), indent=1))
    partial.replace(SECRETS_FILE)


def app_exists(name: str) -> bool:
    return (REPO / name / "app.py").exists()


def base_environment(database_url: str, endpoint: str) -> dict[str, str]:
    env = {**dev_secrets(), **os.environ, **aws.FAKE_CREDENTIALS}
    env.update(
        DATABASE_URL=database_url,
        AWS_ENDPOINT_URL=endpoint,
        APP_STAGE="dev",
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("AVATAR_BUCKET", "serverless-blog-avatars")
    env.setdefault("EMAIL_QUEUE_NAME", "serverless-blog-email")
    env.setdefault("SES_SENDER", "Serverless Blog <no-reply@blog.example.com>")
    # Pictures are served straight from the emulator's S3 (path-style URL).
    env.setdefault("AVATAR_BASE_URL", f"{endpoint}/{env['AVATAR_BUCKET']}")
    env.setdefault("PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('WEB_PORT') or '8000'}")
    env.setdefault("USER_API_URL", f"http://127.0.0.1:{os.environ.get('USER_API_PORT') or '8001'}")
    env.setdefault("POST_API_URL", f"http://127.0.0.1:{os.environ.get('POST_API_PORT') or '8002'}")
    return env


def stream(prefix: str, process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        say(prefix, raw.decode(errors="replace").rstrip())


# -- ports: checked before anything is started -----------------------------------------------------


def _port_setting(environ: Mapping[str, str], variable: str, default: int) -> int | str:
    """The port a variable asks for, or a one-line complaint when it is not a port number."""
    raw = environ.get(variable) or str(default)
    if raw.isdigit() and 0 < int(raw) < 65536:
        return int(raw)
    return f"{variable}={raw!r} is not a port number (1-65535)"


def port_problems(environ: Mapping[str, str]) -> list[str]:
    """One line per port that ``make dev`` could not use, naming the variable that moves it:
    the apps' ports, the embedded PostgreSQL's (unless it is this data directory's own server,
    which is reused, or DATABASE_URL replaces it) and the AWS emulator's (unless LocalStack
    or moto answers there, which is reused). Empty when everything can start."""
    problems: list[str] = []
    wanted: list[tuple[str, int]] = []
    for name, variable, default in APPS:
        if app_exists(name):
            setting = _port_setting(environ, variable, default)
            if isinstance(setting, str):
                problems.append(setting)
            else:
                wanted.append((variable, setting))
    if not environ.get("DATABASE_URL"):
        setting = _port_setting(environ, "DEV_DB_PORT", DEFAULT_DB_PORT)
        if isinstance(setting, str):
            problems.append(setting)
        else:
            wanted.append(("DEV_DB_PORT", setting))
    reserved = {port for _variable, port in wanted}
    first_user: dict[int, str] = {}
    for variable, port in wanted:
        if port in first_user:
            problems.append(f"{first_user[port]} and {variable} are both {port}; set {variable} to another port")
        else:
            first_user[port] = variable
            if pg.port_taken(port) and not (variable == "DEV_DB_PORT" and _our_database(port)):
                problems.append(
                    f"port {port} is already in use by another program; set {variable} to a free port "
                    f"(e.g. {variable}={_free_port_near(port, reserved)} make dev)"
                )
    endpoint = (environ.get("AWS_ENDPOINT_URL") or aws.DEFAULT_ENDPOINT).rstrip("/")
    try:
        host, port = aws.address(endpoint)
    except ValueError:
        return [*problems, f"AWS_ENDPOINT_URL={endpoint!r} has no valid port"]
    if port in first_user and host in LOCAL_HOSTS:
        problems.append(f"{first_user[port]} and AWS_ENDPOINT_URL both use port {port}; move one of them")
    elif pg.port_open(port, host) and not aws.answering(endpoint):
        problems.append(
            f"port {port} is in use by a program that is not an AWS emulator (LocalStack or moto); "
            f"set AWS_ENDPOINT_URL to another address "
            f"(e.g. AWS_ENDPOINT_URL=http://127.0.0.1:{_free_port_near(port, reserved)} make dev)"
        )
    return problems


def _free_port_near(port: int, reserved: Collection[int]) -> int:
    """A port to suggest instead of ``port``: a free one a little above it if there is one."""
    for candidate in range(port + 10, min(port + 100, 65536)):
        if candidate not in reserved and not pg.port_taken(candidate):
            return candidate
    return pg.free_port()


def _our_database(port: int) -> bool:
    """Whether the embedded PostgreSQL of this checkout's data directory is what holds ``port``."""
    return pg.EmbeddedPostgres(pg.dev_data_dir(REPO), port).holds_port()


# -- the set-up, in counted steps --------------------------------------------------------------------

STEPS = 5


def step(number: int, line: str) -> None:
    say("dev", f"[{number}/{STEPS}] {line}")


def start_database() -> tuple[str, pg.EmbeddedPostgres | None]:
    """[1/5] The database URL, and the embedded server when it is ours to stop."""
    if os.environ.get("DATABASE_URL"):
        step(1, "PostgreSQL: using DATABASE_URL from the environment")
        return os.environ["DATABASE_URL"], None
    server = pg.EmbeddedPostgres(pg.dev_data_dir(REPO), int(os.environ.get("DEV_DB_PORT") or DEFAULT_DB_PORT))
    if not server.initialised():
        step(1, f"PostgreSQL: creating the database cluster in {server.data_dir} (first run only) ...")
        server.init()
    if not server.running():
        step(1, f"PostgreSQL: starting on 127.0.0.1:{server.port} ...")
    server.start()
    step(1, f"PostgreSQL {'started' if server.started_here else 'already running'}: {server.url}")
    return server.url, server


def start_emulator() -> tuple[str, subprocess.Popen[bytes] | None]:
    """[2/5] The AWS emulator's endpoint, and moto's process when it was started here."""
    endpoint = (os.environ.get("AWS_ENDPOINT_URL") or aws.DEFAULT_ENDPOINT).rstrip("/")
    found = aws.answering(endpoint)
    if found:
        step(2, f"AWS emulator at {endpoint} ({found}, already running)")
        return endpoint, None
    step(2, f"AWS emulator: starting moto at {endpoint} (log: {DEVDB / 'moto.log'}) ...")
    moto = aws.start_moto(endpoint, log_path=DEVDB / "moto.log")
    step(2, f"AWS emulator at {endpoint} (moto, started here)")
    return endpoint, moto


def report(problems: list[str]) -> None:
    for problem in problems:
        print(f"make dev: {problem}", file=sys.stderr, flush=True)


def main() -> int:
    problems = port_problems(os.environ)
    if problems:
        report(problems)
        return 1
    DEVDB.mkdir(exist_ok=True)
    server: pg.EmbeddedPostgres | None = None
    moto: subprocess.Popen[bytes] | None = None
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        database_url, server = start_database()
        endpoint, moto = start_emulator()

        env = base_environment(database_url, endpoint)
        step(3, f"AWS resources: bucket {env['AVATAR_BUCKET']}, mail queue {env['EMAIL_QUEUE_NAME']}, SES sender ...")
        aws.prepare(endpoint, env)
        env["EMAIL_QUEUE_URL"], dlq_url = aws.prepare_mail(endpoint, env["EMAIL_QUEUE_NAME"], env["SES_SENDER"])
        step(3, f"mail queue {env['EMAIL_QUEUE_URL']} (dead letters: {dlq_url})")
        step(4, "migrations: upgrading the database schema ...")
        subprocess.run([sys.executable, "-m", "blog_shared.migrate", "upgrade"], env=env, check=True)
        step(4, "migrations applied")

        # Again, now that our own database and emulator hold their ports: a port taken during the
        # set-up would only show as an app's traceback (chalice local's reloader outlives its server).
        problems = port_problems(os.environ)
        if problems:
            report(problems)
            return 1

        def run(name: str, command: list[str], cwd: Path, role: str) -> None:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=role_environment(role, env),  # only the keys and secrets the app uses
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            children.append((name, process))
            threading.Thread(target=stream, args=(name, process), daemon=True).start()

        names = [name for name, _variable, _default in APPS if app_exists(name)]
        step(5, f"apps: starting {', '.join(names)} and the mail worker ...")
        for name, port_var, default in APPS:
            if not app_exists(name):
                continue
            port = os.environ.get(port_var) or str(default)
            run(
                name,
                [*CHALICE_LOCAL, "local", "--host", "127.0.0.1", "--port", port, "--stage", "dev"],
                REPO / name,
                name,
            )
            say("dev", f"{name}: http://127.0.0.1:{port}")
        # Lambda's SQS trigger, locally: sends the mail the apps queue and prints it here.
        run("mail", [sys.executable, "-m", "devtools.worker"], REPO, "user_api")

        stopping = threading.Event()

        def request_stop(*_args: object) -> None:
            stopping.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        say("dev", "running; press Ctrl-C to stop")
        while not stopping.wait(0.5):
            for name, process in children:
                if process.poll() is not None:
                    say("dev", f"{name} exited with {process.returncode}; stopping")
                    stopping.set()
    except KeyboardInterrupt:  # Ctrl-C during the set-up (after it, request_stop handles it)
        return 130
    finally:
        for _name, process in children:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process in children:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        aws.stop(moto)
        if server is not None and server.started_here:
            server.stop()
        say("dev", "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
