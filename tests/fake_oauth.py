"""A stand-in for GitHub's and Google's OAuth endpoints on 127.0.0.1 (the real ones are
out of reach in tests): it checks the client credentials and the code, and answers as
the providers do."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

CLIENT_ID, CLIENT_SECRET = "test-client", "test-client-secret"
GOOD_CODE = "good-code"
UNVERIFIED_CODE = "unverified-code"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        return

    def _send(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        value = {k: v[0] for k, v in form.items()}
        if value.get("client_id") != CLIENT_ID or value.get("client_secret") != CLIENT_SECRET:
            return self._send(401, {"error": "invalid_client"})
        if value.get("code") not in (GOOD_CODE, UNVERIFIED_CODE):
            return self._send(400, {"error": "bad_verification_code"})
        return self._send(200, {"access_token": f"token-for-{value['code']}", "token_type": "bearer"})

    def do_GET(self) -> None:
        verified = self.headers.get("Authorization") == f"Bearer token-for-{GOOD_CODE}"
        if self.path == "/github-api/user":
            return self._send(200, {"login": "octo-cat", "name": "Octo Cat"})
        if self.path == "/github-api/user/emails":
            return self._send(200, [{"email": "octo@example.com", "primary": True, "verified": verified}])
        if self.path == "/google/userinfo":
            return self._send(200, {"email": "gina@example.com", "email_verified": verified, "given_name": "Gina"})
        return self._send(404, {"error": "not found"})


def start(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def environment(port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    return {
        "GITHUB_CLIENT_ID": CLIENT_ID,
        "GITHUB_CLIENT_SECRET": CLIENT_SECRET,
        "GITHUB_OAUTH_URL": base,
        "GITHUB_API_URL": f"{base}/github-api",
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "GOOGLE_AUTH_URL": f"{base}/google/auth",
        "GOOGLE_TOKEN_URL": f"{base}/google/token",
        "GOOGLE_USERINFO_URL": f"{base}/google/userinfo",
    }
