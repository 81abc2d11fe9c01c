"""``make dev``: the whole system on this machine.

Starts (or reuses) the embedded PostgreSQL under ``.devdb/``, finds or starts the AWS
emulator (with the mail queues and SES sender), runs the migrations, then runs every app
with ``chalice local``: web_frontend on 8000, user_api on 8001, post_api on 8002
(WEB_PORT, USER_API_PORT, POST_API_PORT override them), and the mail worker
(``devtools.worker``), which prints every mail sent. Logs are streamed with a prefix per process; Ctrl-C
stops everything this command started. ``DATABASE_URL`` replaces the embedded server.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

from devtools import CHALICE, aws, pg

REPO = Path(__file__).resolve().parent.parent
DEVDB = REPO / ".devdb"
APPS = (("web_frontend", "WEB_PORT", 8000), ("user_api", "USER_API_PORT", 8001), ("post_api", "POST_API_PORT", 8002))
COLOURS = {"web_frontend": "35", "user_api": "36", "post_api": "33", "mail": "34", "dev": "32"}


def say(prefix: str, line: str) -> None:
    colour = COLOURS.get(prefix, "0")
    label = f"\033[{colour}m{prefix:>12} |\033[0m" if sys.stdout.isatty() else f"{prefix:>12} |"
    sys.stdout.write(f"{label} {line}\n")
    sys.stdout.flush()


def dev_secret() -> str:
    """A random JWT signing key made once and kept in .devdb/ (never committed)."""
    path = DEVDB / "jwt_secret"
    if not path.exists():
        DEVDB.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def app_exists(name: str) -> bool:
    return (REPO / name / "app.py").exists()


def base_environment(database_url: str, endpoint: str) -> dict[str, str]:
    env = {**os.environ, **aws.FAKE_CREDENTIALS}
    env.update(
        DATABASE_URL=database_url,
        AWS_ENDPOINT_URL=endpoint,
        JWT_SECRET=os.environ.get("JWT_SECRET") or dev_secret(),
        APP_STAGE="dev",
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("AVATAR_BUCKET", "serverless-blog-avatars")
    env.setdefault("EMAIL_QUEUE_NAME", "serverless-blog-email")
    env.setdefault("SES_SENDER", "Serverless Blog <no-reply@blog.example.com>")
    # Pictures are served straight from the emulator's S3 (path-style URL).
    env.setdefault("AVATAR_BASE_URL", f"{endpoint}/{env['AVATAR_BUCKET']}")
    env.setdefault("PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8000')}")
    env.setdefault("USER_API_URL", f"http://127.0.0.1:{os.environ.get('USER_API_PORT', '8001')}")
    env.setdefault("POST_API_URL", f"http://127.0.0.1:{os.environ.get('POST_API_PORT', '8002')}")
    return env


def stream(prefix: str, process: subprocess.Popen) -> None:
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        say(prefix, raw.decode(errors="replace").rstrip())


def main() -> int:
    DEVDB.mkdir(exist_ok=True)
    server: pg.EmbeddedPostgres | None = None
    if os.environ.get("DATABASE_URL"):
        database_url = os.environ["DATABASE_URL"]
        say("dev", "using DATABASE_URL from the environment")
    else:
        server = pg.EmbeddedPostgres(pg.dev_data_dir(REPO), int(os.environ.get("DEV_DB_PORT", "54329")))
        server.start()
        database_url = server.url
        say("dev", f"PostgreSQL {'started' if server.started_here else 'already running'}: {database_url}")

    endpoint, moto = aws.ensure_emulator(log_path=DEVDB / "moto.log")
    say("dev", f"AWS emulator at {endpoint} ({'moto, started here' if moto else aws.answering(endpoint)})")

    env = base_environment(database_url, endpoint)
    aws.prepare(endpoint, env)
    env["EMAIL_QUEUE_URL"], dlq_url = aws.prepare_mail(endpoint, env["EMAIL_QUEUE_NAME"], env["SES_SENDER"])
    say("dev", f"mail queue {env['EMAIL_QUEUE_URL']} (dead letters: {dlq_url})")
    subprocess.run([sys.executable, "-m", "blog_shared.migrate", "upgrade"], env=env, check=True)
    say("dev", "migrations applied")

    children: list[tuple[str, subprocess.Popen]] = []

    def run(name: str, command: list[str], cwd: Path) -> None:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        children.append((name, process))
        threading.Thread(target=stream, args=(name, process), daemon=True).start()

    for name, port_var, default in APPS:
        if not app_exists(name):
            continue
        port = os.environ.get(port_var, str(default))
        run(name, [CHALICE, "local", "--host", "127.0.0.1", "--port", port, "--stage", "dev"], REPO / name)
        say("dev", f"{name}: http://127.0.0.1:{port}")
    # Lambda's SQS trigger, locally: sends the mail the apps queue and prints it here.
    run("mail", [sys.executable, "-m", "devtools.worker"], REPO)

    stopping = threading.Event()

    def request_stop(*_args: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    say("dev", "running; press Ctrl-C to stop")
    try:
        while not stopping.wait(0.5):
            for name, process in children:
                if process.poll() is not None:
                    say("dev", f"{name} exited with {process.returncode}; stopping")
                    stopping.set()
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
