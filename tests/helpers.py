"""What the tests share besides fixtures: the password every test user has, the JSON client
over the in-process APIs, the mail pipeline as the tests see it, a cookie-keeping client for
the web frontend, the apps' loader, and small steps several test modules take (a user over
HTTP, a post, an OAuth start, the OpenAPI route check, reading a requirements file). Tests
import these from here; conftest.py holds only fixtures (a conftest is not meant to be
imported)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from chalice.test import Client
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from jose import jwk, jwt
from packaging.requirements import Requirement
from sqlalchemy import create_engine, text

from blog_shared import aws as aws_clients
from blog_shared import db, keys, mail, tokens
from blog_shared.config import get_settings
from devtools import aws
from devtools.apps import REPO as REPO  # re-exported: tests import them from here
from devtools.apps import app_module as app_module
from devtools.apps import load_app as load_app
from tests import fake_oauth

PASSWORD = "correct horse battery"
SES_SENDER = "Serverless Blog <no-reply@blog.test>"


def reset_caches() -> None:
    """Forget what was read from the environment (settings, keys, AWS clients, engine)."""
    get_settings.cache_clear()
    keys.source.forget()
    aws_clients.client.cache_clear()
    mail.queue_url.cache_clear()
    db.reset_engine()


@contextmanager
def fresh_keys(monkeypatch: Any, stage: str) -> Iterator[Any]:
    """An environment of stage ``stage`` with every key newly made, given by value; the caches
    forget it afterwards (monkeypatch restores os.environ)."""
    monkeypatch.setenv("APP_STAGE", stage)
    for name in keys.ALL:
        monkeypatch.delenv(f"{name}_ARN", raising=False)
    for name, value in keys.generate_values().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    keys.source.forget()
    try:
        yield monkeypatch
    finally:
        get_settings.cache_clear()
        keys.source.forget()


def secrets_for(role: str, values: Mapping[str, str]) -> dict[str, str]:
    """Only the keys and secrets ``role`` uses (see ``keys.NEEDED_BY``), out of ``values``."""
    return {name: values[name] for name in keys.NEEDED_BY[role]}


def token_claims(purpose: str, subject: str = "1") -> dict[str, object]:
    """Claims that pass every check but the signature's (for forging tokens in tests)."""
    settings = get_settings()
    now = int(datetime.now(UTC).timestamp())
    return {
        "sub": subject,
        "purpose": purpose,
        "jti": "7e4a7f5e-8d7c-4b8a-9a59-0d3c1a6a2b11",
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "ver": 1,
    }


def hs256_token(payload: dict[str, object], secret: str, kid: str | None = None) -> str:
    """An HS256 token made by hand (python-jose refuses a PEM as an HMAC key; an attacker
    would not)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(payload).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


def forged_access_tokens(held: Mapping[str, str], subject: str = "1") -> list[str]:
    """Access tokens an app holding ``held`` (post_api's keys and secrets) could make: HS256
    with each secret or public key it holds (as text and as PEM), ES256 with a key pair of
    its own (under the real key id, or none), ES384 under the real key id, and ``alg: none``."""
    [public] = json.loads(held[keys.ACCESS_PUBLIC_KEYS])["keys"][:1]
    public_pem = jwk.construct(public, keys.ALGORITHM).to_pem().decode()
    claims = token_claims(tokens.ACCESS, subject)
    forged = [hs256_token(claims, value, kid=public["kid"]) for value in held.values()]
    forged += [hs256_token(claims, value) for value in held.values()]
    forged.append(hs256_token(claims, public_pem, kid=public["kid"]))
    own = keys.new_signing_key().pem
    forged.append(jwt.encode(claims, own, algorithm=keys.ALGORITHM, headers={"kid": public["kid"]}))
    forged.append(jwt.encode(claims, own, algorithm=keys.ALGORITHM))  # no key id
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    forged.append(jwt.encode(claims, p384.decode(), algorithm="ES384", headers={"kid": public["kid"]}))
    unsigned = (
        f"{_b64(json.dumps({'alg': 'none', 'kid': public['kid']}).encode())}.{_b64(json.dumps(claims).encode())}."
    )
    forged.append(unsigned)
    return forged


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Api:
    """A thin JSON client over ``chalice.test.Client``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)

    # The few steps almost every test needs.
    def register(
        self, username: str, email: str | None = None, password: str = PASSWORD, confirm: bool = True
    ) -> dict[str, Any]:
        """A new account (user_api), its address confirmed as the welcome mail's link does
        unless ``confirm`` is False."""
        response = self.post(
            "/users", {"username": username, "email": email or f"{username}@example.com", "password": password}
        )
        assert response.status_code == 201, response.json_body
        user: dict[str, Any] = response.json_body["data"]
        if confirm:
            confirmed = self.post("/email-confirmation", {"token": confirmation_token(user)})
            assert confirmed.status_code == 200, confirmed.json_body
            user["email_confirmed"] = True
        return user

    def login(self, email: str, password: str = PASSWORD) -> str:
        response = self.post("/user-auth", {"email": email, "password": password})
        assert response.status_code == 200, response.json_body
        return response.json_body["access_token"]

    def register_and_login(self, username: str) -> tuple[dict[str, Any], str]:
        user = self.register(username)
        return user, self.login(user["email"])


def confirmation_token(user: dict[str, Any]) -> str:
    """The token of the link that confirms an account's address, as its mail carries it."""
    fingerprint = tokens.email_fingerprint(user["email"])
    return tokens.issue(user["id"], tokens.EMAIL_CONFIRM, tokens.EMAIL_CONFIRM_TTL, em=fingerprint).token


def change_token(user: dict[str, Any], change: Any) -> str:
    """The token of the link a change of address mails to the new address (``change``: the
    answer to the PUT that asked for it)."""
    fingerprint = tokens.email_fingerprint(user["email"])
    new = change.json_body["email_pending"]
    ttl = tokens.EMAIL_CHANGE_TTL
    return tokens.issue(user["id"], tokens.EMAIL_CHANGE, ttl, new=new, em=fingerprint, ver=1).token


class MailFlow:
    """The mail pipeline as the tests see it: the queue the apps publish to, the dev worker
    feeding user_api's SQS handler, and the mail the emulator's SES accepted."""

    def __init__(self, endpoint: str, queue_url: str, handler: Any) -> None:
        from devtools.worker import Worker

        self.endpoint = endpoint
        self.sqs = aws.client("sqs", endpoint)
        self.queue_url = queue_url
        self.dlq_url = self.sqs.get_queue_url(QueueName=queue_url.rsplit("/", 1)[1] + "-dlq")["QueueUrl"]
        for url in (self.queue_url, self.dlq_url):
            self.empty(url)
        self.worker = Worker(handler, queue_url, endpoint)
        self.handler = handler
        self._seen = len(self.all_sent())

    def empty(self, url: str) -> None:
        """Delete what earlier tests left, also what is in flight (PurgeQueue is allowed once a
        minute); in-flight messages come back within the test queues' 1 s visibility timeout."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if batch:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
                self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            elif self.pending(url) == 0:
                return
            else:
                time.sleep(0.3)
        raise AssertionError(f"{url} did not empty")

    def pending(self, url: str) -> int:
        """Messages on the queue: visible, in flight or delayed (read in one call, so a message
        turning visible between two reads is not missed)."""
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in names)

    def all_sent(self) -> list[Any]:
        """Mail the tests' sender sent (a `make dev` may share the emulator)."""
        from devtools.mailbox import sent_mails

        return [mail for mail in sent_mails(self.endpoint) if SES_SENDER in mail.headers.get("From", "")]

    def sent(self) -> list[Any]:
        """Mail sent since this test began."""
        return self.all_sent()[self._seen :]

    def queued(self, url: str | None = None) -> list[dict[str, Any]]:
        """The messages waiting on the queue (received and made visible again at once)."""
        url = url or self.queue_url
        messages: dict[str, dict[str, Any]] = {}
        for _ in range(5):
            answer = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
            batch = answer.get("Messages", [])
            if not batch:
                break
            messages.update({m["MessageId"]: m for m in batch})
        for message in messages.values():
            self.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return [json.loads(m["Body"]) for m in messages.values()]

    def worker_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The SQS event Lambda would pass for these received messages."""
        from devtools.worker import sqs_event

        return sqs_event(messages, self.worker.queue_arn, aws.FAKE_CREDENTIALS["AWS_REGION"])

    def deliver(self, max_polls: int = 20) -> None:
        """Run the worker until the queue is empty (waiting out retries)."""
        for _ in range(max_polls):
            batch = self.worker.poll_once(wait_seconds=0)
            if batch.received == 0:
                if self.pending(self.queue_url) == 0:
                    return
                time.sleep(0.5)
        raise AssertionError(f"the queue still had messages after {max_polls} polls")


class Browser:
    """The web frontend in-process (``chalice.test.Client``) with a cookie jar like a browser's."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}
        self.last: Any = None

    def _store(self, response: Any) -> None:
        raw = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
        for line in [raw] if isinstance(raw, str) else raw or []:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in line:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def request(self, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None) -> Any:
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = getattr(self.client.http, method.lower())(path, headers=all_headers, body=body)
        self._store(response)
        self.last = response
        return response

    def get(self, path: str) -> Any:
        """GET ``path``, following a permanent redirect (a post's short address) as a browser
        does; ``request("GET", ...)`` sees the 301 itself."""
        response = self.request("GET", path)
        for _ in range(3):
            if response.status_code != 301:
                break
            response = self.request("GET", response.headers["Location"])
        return response

    def csrf(self) -> str:
        """The CSRF token of the last page (fetching the home page if there is none yet)."""
        no_token = self.last is None or b'name="csrf_token"' not in (self.last.body or b"")
        if no_token and self.get("/login").status_code == 303:  # logged in: the logout form has one
            self.get("/")
        match = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', self.last.body)
        assert match, "no CSRF token on the page"
        return match.group(1).decode()

    def post(self, path: str, fields: dict[str, str] | None = None, csrf: str | None = None) -> Any:
        data = {"csrf_token": self.csrf() if csrf is None else csrf, **(fields or {})}
        return self.request("POST", path, urlencode(data), {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(
        self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes, str]], with_csrf: bool = True
    ) -> Any:
        boundary = "----blogtestboundary7MA4YWxkTrZu0gW"
        parts = []
        for name, value in (({"csrf_token": self.csrf()} if with_csrf else {}) | fields).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content, content_type) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def register(self, username: str) -> Any:
        return self.post(
            "/register",
            {
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
                "confirm_password": PASSWORD,
            },
        )

    def login(self, username: str, remember: bool = False) -> Any:
        fields = {"email": f"{username}@example.com", "password": PASSWORD}
        if remember:
            fields["remember"] = "y"
        return self.post("/login", fields)

    def sign_up(self, username: str, confirm: bool = True) -> Browser:
        """Register and log in through the site; with ``confirm``, open the welcome mail's
        confirmation link too."""
        assert self.register(username).status_code == 303
        assert self.login(username).status_code == 303
        if confirm:
            self.confirm_address(f"{username}@example.com")
        return self

    def confirm_address(self, email: str) -> None:
        """Open the link that confirms ``email`` (as the welcome mail carries it) and confirm."""
        engine = create_engine(get_settings().database_url)
        with engine.connect() as conn:
            user_id = conn.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email}).scalar_one()
        engine.dispose()
        path = f"/confirm_email/{confirmation_token({'id': user_id, 'email': email})}"
        assert self.get(path).status_code == 200
        assert self.post(path).status_code == 200, self.text()

    def follow_redirect(self) -> Any:
        location = self.last.headers["Location"]
        return self.get(location)

    def text(self) -> str:
        return (self.last.body or b"").decode()

    def page(self, path: str) -> str:
        """GET ``path`` and return the page's text."""
        self.get(path)
        return self.text()

    def redirected_page(self) -> str:
        """Follow the last redirect and return the page's text."""
        self.follow_redirect()
        return self.text()


def register_over_http(base: str, name: str) -> tuple[dict, str]:
    created = requests.post(
        f"{base}/users", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD}, timeout=10
    )
    assert created.status_code == 201, created.text
    login = requests.post(f"{base}/user-auth", json={"email": f"{name}@example.com", "password": PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    return created.json()["data"], login.json()["access_token"]


def write_post(posts, token, title="Hello", content="World", **extra):
    response = posts.post("/posts", {"title": title, "content": content, **extra}, token=token)
    assert response.status_code == 201, response.json_body
    return response.json_body["data"]


def documented_routes(api) -> set[tuple[str, str]]:
    spec = api.get("/openapi.json").json_body
    return {(path, method) for path, operations in spec["paths"].items() for method in operations}


def assert_documents_every_route(api, app) -> None:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json_body
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]
    routes = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    assert len(routes) >= 5
    assert routes <= documented_routes(api)
    for operations in spec["paths"].values():
        for operation in operations.values():
            assert operation["summary"] and operation["responses"]


def start_oauth(browser, provider: str, next_page: str = "") -> dict[str, str]:
    """Start a sign-in and play the visit to the provider (which records its PKCE challenge);
    returns the authorization request's parameters."""
    response = browser.get(f"/login/{provider}" + (f"?next={next_page}" if next_page else ""))
    assert response.status_code == 303
    location = response.headers["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["client_id"] == fake_oauth.CLIENT_ID
    assert query["redirect_uri"] == f"http://blog.test/login/{provider}/callback"
    assert len(query["state"]) > 20
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert requests.get(location, allow_redirects=False, timeout=10).status_code == 302
    return query


def requirements(path: Path) -> list[Requirement]:
    """The requirement lines of a generated file (hash continuation lines and comments skipped)."""
    lines = [line.split(" \\")[0].strip() for line in path.read_text().splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "--"))]


def applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate()


def lint(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), path], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """The template as CloudFormation gets it after the SAM transform, computed offline (local
    CodeUris stand in for the S3 locations `sam package` would give them)."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://packaged/" + resource["Properties"]["CodeUri"].lstrip("./")
    expanded: dict[str, Any] = transform(template, {}, NoManagedPolicies())
    return expanded


@contextmanager
def empty_database(server_url: str, name: str) -> Iterator[str]:
    """A new, empty database called ``name`` on the server of ``server_url`` (its URL),
    dropped afterwards."""
    base = server_url.rsplit("/", 1)[0]
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_posts(database_url: str, counts: dict[int, int]) -> None:
    """Insert posts straight into the database: ``counts`` maps user id to a number of posts.
    Dates interleave the authors one minute apart, newest last."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        for user_id, count in counts.items():
            conn.execute(
                text(
                    "INSERT INTO posts (user_id, title, content, date_posted) "
                    "SELECT :uid, 'post ' || g, 'body ' || g, "
                    "timestamptz '2026-01-01' + (g * :n + :uid) * interval '1 minute' "
                    "FROM generate_series(1, :count) AS g"
                ),
                {"uid": user_id, "count": count, "n": len(counts)},
            )
        conn.execute(text("UPDATE users SET post_count = (SELECT count(*) FROM posts WHERE user_id = users.id)"))
        conn.execute(text("ANALYZE"))
    engine.dispose()


def seed_comments(database_url: str, post_id: int, user_id: int, count: int, length: int = 20) -> None:
    """``count`` comments of ``length`` characters straight into the database, one second
    apart; their text is their number."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO comments (post_id, user_id, text, date_posted) "
                "SELECT :post, :user, rpad(g::text || ' ', :length, 'x'), "
                "timestamptz '2026-01-01' + g * interval '1 second' FROM generate_series(1, :count) AS g"
            ),
            {"post": post_id, "user": user_id, "count": count, "length": length},
        )
    engine.dispose()
