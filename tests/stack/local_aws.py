"""Just enough of Lambda, API Gateway and CloudFront, on this machine, to run the packaged
stack as build/template.yaml wires it.

- :class:`Function`: a function's handler run from its own artifact, extracted into an empty
  folder, in a bare interpreter (``-I``: no site-packages of ours) whose path is the artifact
  and then the runtime's own libraries (boto3 and what it needs, as Lambda's Python runtime
  provides them), with exactly the environment the template gives it plus what Lambda sets
  (region, credentials) and ``AWS_ENDPOINT_URL`` (the emulator). One event at a time, as one
  Lambda container serves them.
- :class:`Gateway`: a REST API's stage (``/api``): a request matching one of the template's
  routes becomes the proxy event API Gateway sends, with the route's resource path.
- :class:`Distribution`: the CloudFront origin layout: ``/avatars/*`` from the bucket, the rest
  from the web API's stage.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from devtools.coldstart import runtime_libraries

# Lambda's Python runtime: reads one JSON event per line, answers one JSON line. The
# network of the stack: the https addresses of its APIs and distribution (argv[4]) reach
# their local stand-ins, as DNS and TLS would on AWS (the function's settings stay as the
# template wires them).
RUNTIME = r"""
import importlib, json, sys, traceback
sys.path[:0] = [sys.argv[1], sys.argv[2]]
hosts = json.loads(sys.argv[4])
if hosts:
    import requests.adapters
    send = requests.adapters.HTTPAdapter.send
    def routed(self, request, **kwargs):
        for remote, local in hosts.items():
            if request.url.startswith(remote + "/") or request.url == remote:
                request.url = local + request.url[len(remote):]
                break
        return send(self, request, **kwargs)
    requests.adapters.HTTPAdapter.send = routed
module_name, _, attribute = sys.argv[3].rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)
out = sys.stdout
sys.stdout = sys.stderr  # what the function prints goes to its log, as on Lambda
out.write(json.dumps({"ready": True}) + "\n"); out.flush()
for line in sys.stdin:
    try:
        out.write(json.dumps({"result": handler(json.loads(line), None)}) + "\n")
    except Exception as error:
        traceback.print_exc()
        out.write(json.dumps({"error": type(error).__name__, "message": str(error)}) + "\n")
    out.flush()
"""


class FunctionError(RuntimeError):
    """The handler raised (Lambda reports the invocation as failed)."""


class Function:
    def __init__(
        self,
        name: str,
        artifact: Path,
        handler: str,
        environment: dict[str, str],
        work: Path,
        hosts: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.folder = work / name
        with zipfile.ZipFile(artifact) as archive:
            archive.extractall(self.folder)
        self.log = open(work / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        self.environment = environment
        self.command = [
            sys.executable,
            "-I",
            "-c",
            RUNTIME,
            str(self.folder),
            str(runtime_libraries(work / "runtime")),
            handler,
            json.dumps(hosts or {}),
        ]
        self.lock = threading.Lock()
        self.invocations = 0
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={"PATH": "/usr/bin:/bin", **self.environment},
            cwd=self.folder,
        )
        ready = self._read()
        if ready != {"ready": True}:
            raise FunctionError(f"{self.name} did not start: {ready} {self.log_text()}")

    def recycle(self) -> None:
        """A new container in place of this one (as Lambda makes after an idle spell)."""
        with self.lock:
            self.process.kill()
            self.process.wait()
            self._start()

    def _read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise FunctionError(f"{self.name} exited: {self.log_text()}")
        return json.loads(line)

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()[-3000:]

    def invoke(self, event: dict[str, Any]) -> Any:
        with self.lock:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(event) + "\n")
            self.process.stdin.flush()
            answer = self._read()
            self.invocations += 1
        if "error" in answer:
            raise FunctionError(f"{self.name}: {answer['error']}: {answer['message']}")
        return answer["result"]

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.log.close()


def _route_pattern(resource: str) -> re.Pattern[str]:
    """A regular expression for an API Gateway resource path, e.g. /posts/{post_id}."""
    parts = re.split(r"(\{[^}]+\})", resource)
    regex = "".join(
        f"(?P<{part[1:-1].rstrip('+')}>.+)"
        if part.endswith("+}")
        else f"(?P<{part[1:-1]}>[^/]+)"
        if part.startswith("{")
        else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")


class _Server:
    def __init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = outer.handle(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for name, values in headers.items():
                    for value in values if isinstance(values, list) else [values]:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        for method in ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"):
            setattr(Handler, f"do_{method}", Handler.do_any)  # every method, one way
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any], bytes]:
        raise NotImplementedError

    def stop(self) -> None:
        self.server.shutdown()


class Gateway(_Server):
    """One REST API's stage, serving the routes of its DefinitionBody."""

    STAGE = "api"

    def __init__(self, definition: dict[str, Any], function: Function | None = None) -> None:
        # As API Gateway: a path's static resource wins over one with a parameter there
        # (/posts/new before /posts/{post_id}), a parameter over a greedy {proxy+}.
        self.routes = sorted(
            (
                (_route_pattern(resource), resource, {method.upper() for method in operations})
                for resource, operations in definition["paths"].items()
            ),
            key=lambda route: (route[1].count("+}"), route[1].count("{"), -len(route[1])),
        )
        self.function = function
        # Bodies of these media types reach the function base64-encoded, as API Gateway sends them.
        self.binary_types = set(definition.get("x-amazon-apigateway-binary-media-types", []))
        super().__init__()

    def event(self, method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any] | None:
        """The proxy event API Gateway sends for this request (None: no route matches)."""
        parts = urlsplit(path)
        if not parts.path.startswith(f"/{self.STAGE}/") and parts.path != f"/{self.STAGE}":
            return None
        route_path = parts.path[len(self.STAGE) + 1 :] or "/"
        for pattern, resource, methods in self.routes:
            match = pattern.match(route_path)
            if match and (method in methods or "X-AMAZON-APIGATEWAY-ANY-METHOD" in methods):
                query = parse_qs(parts.query, keep_blank_values=True)
                media_type = headers.get("Content-Type", "").split(";")[0].strip()
                is_text = media_type not in self.binary_types and "*/*" not in self.binary_types
                text_body = body.decode("utf-8", errors="replace") if body and is_text else None
                return {
                    "resource": resource,
                    "path": route_path,
                    "httpMethod": method,
                    "headers": headers,
                    "multiValueHeaders": {k: [v] for k, v in headers.items()},
                    "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
                    "multiValueQueryStringParameters": query or None,
                    "pathParameters": match.groupdict() or None,
                    "stageVariables": None,
                    "requestContext": {
                        "resourcePath": resource,
                        "httpMethod": method,
                        "path": parts.path,
                        "stage": self.STAGE,
                        "requestId": secrets.token_hex(8),
                        "identity": {"sourceIp": "127.0.0.1"},
                    },
                    "body": text_body if is_text else (base64.b64encode(body).decode() if body else None),
                    "isBase64Encoded": bool(body) and not is_text,
                }
        return None

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any], bytes]:
        event = self.event(method, path, headers, body)
        assert self.function is not None, "the gateway's function is not attached yet"
        if event is None:  # API Gateway's own answer for an unknown route
            return 403, {"Content-Type": "application/json"}, b'{"message":"Missing Authentication Token"}'
        try:
            answer = self.function.invoke(event)
        except FunctionError:
            return 502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}'
        headers_out: dict[str, Any] = dict(answer.get("headers") or {})
        headers_out.update(answer.get("multiValueHeaders") or {})
        payload = answer.get("body") or ""
        data = base64.b64decode(payload) if answer.get("isBase64Encoded") else payload.encode()
        return int(answer["statusCode"]), headers_out, data


class Distribution(_Server):
    """The site's one origin: ``/avatars/*`` from the bucket, everything else from the web
    API's stage (the origin path ``/api``), as the template's CloudFront distribution."""

    def __init__(self, web: Gateway, s3: Any, bucket: str) -> None:
        self.web, self.s3, self.bucket = web, s3, bucket
        super().__init__()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any], bytes]:
        if urlsplit(path).path.startswith("/avatars/"):
            key = urlsplit(path).path.lstrip("/")
            try:
                found = self.s3.get_object(Bucket=self.bucket, Key=key)
            except self.s3.exceptions.NoSuchKey:
                return 404, {}, b"Not Found"
            return 200, {"Content-Type": found["ContentType"]}, found["Body"].read()
        forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
        answer = requests.request(
            method, f"{self.web.url}/api{path}", headers=forwarded, data=body, allow_redirects=False, timeout=60
        )
        out: dict[str, Any] = {}
        for name, value in answer.raw.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                out.setdefault(name, []).append(value)
        return answer.status_code, out, answer.content


def lambda_environment(variables: dict[str, str], endpoint: str) -> dict[str, str]:
    """What a function's process sees: the template's variables, what Lambda itself sets, and
    the emulator's address (the one thing that differs from AWS)."""
    return {
        **{k: str(v) for k, v in variables.items()},
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_ENDPOINT_URL": endpoint,
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
