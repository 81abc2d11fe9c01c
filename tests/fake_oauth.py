"""A stand-in for GitHub's and Google's OAuth endpoints on 127.0.0.1 (the real ones are
out of reach in tests). As the providers do, it checks the client credentials, the code and
its PKCE verifier (against the challenge the authorization request carried), and Google's
token answer carries an ID token signed with a key published at its key-set address.

A test plays the browser's visit to the provider by GETting the authorization URL here
(tests.helpers.start_oauth): that records the challenge and nonce for the codes below.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

CLIENT_ID, CLIENT_SECRET = "test-client", "test-client-secret"
GOOD_CODE = "good-code"
UNVERIFIED_CODE = "unverified-code"
ISSUER = "https://accounts.google.test"
KEY_ID = "fake-key-1"
# Codes whose ID token is wrong in one way each (Google only).
ID_TOKEN_FAULTS = ("bad-audience", "bad-issuer", "bad-nonce", "expired", "bad-signature", "unknown-key", "bad-at-hash")

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_jwk() -> dict[str, Any]:
    public = _KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {**jwk.construct(public.decode(), "RS256").to_dict(), "kid": KEY_ID, "use": "sig"}


# What the last authorization request said, per code it hands out: (challenge, nonce).
_authorized: dict[str, tuple[str, str]] = {}


def _at_hash(access_token: str) -> str:
    """OpenID Connect's at_hash: the left half of the access token's SHA-256, base64url."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode().rstrip("=")


def _id_token(code: str, nonce: str, access_token: str) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "google-user-1",
        "iat": now,
        "exp": now + 600,
        "nonce": nonce,
        "email": "gina@example.com",
        "email_verified": code != UNVERIFIED_CODE,
        "given_name": "Gina",
        "at_hash": _at_hash(access_token),  # Google always sends it with an access token
    }
    fault = code.removeprefix("id-")
    key, kid = _pem(_KEY), KEY_ID
    if fault == "bad-audience":
        claims["aud"] = "someone-else"
    elif fault == "bad-issuer":
        claims["iss"] = "https://evil.example"
    elif fault == "bad-nonce":
        claims["nonce"] = "another-sign-in"
    elif fault == "expired":
        claims.update(iat=now - 7200, exp=now - 3600)
    elif fault == "bad-signature":
        key = _pem(_OTHER_KEY)
    elif fault == "unknown-key":
        kid = "never-published"
    elif fault == "bad-at-hash":
        claims["at_hash"] = _at_hash("another access token")
    return jwt.encode(claims, key.decode(), algorithm="RS256", headers={"kid": kid})


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        return

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        value = {k: v[0] for k, v in form.items()}
        if value.get("client_id") != CLIENT_ID or value.get("client_secret") != CLIENT_SECRET:
            return self._send(401, {"error": "invalid_client"})
        code = value.get("code", "")
        if code not in _authorized:
            return self._send(400, {"error": "bad_verification_code"})
        challenge, nonce = _authorized[code]
        verifier = value.get("code_verifier", "")
        sent = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if not verifier or sent != challenge:
            return self._send(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        grant: dict[str, Any] = {"access_token": f"token-for-{code}", "token_type": "bearer"}
        if self.path.startswith("/google/"):
            grant["id_token"] = _id_token(code, nonce, grant["access_token"])
        return self._send(200, grant)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/login/oauth/authorize", "/google/auth"):  # the browser's visit
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                return self._send(400, {"error": "invalid_request", "error_description": "PKCE required"})
            for code in (GOOD_CODE, UNVERIFIED_CODE, *(f"id-{fault}" for fault in ID_TOKEN_FAULTS)):
                _authorized[code] = (query["code_challenge"], query.get("nonce", ""))
            location = f"{query['redirect_uri']}?code={GOOD_CODE}&state={query['state']}"
            return self._send(302, {}, {"Location": location})
        verified = self.headers.get("Authorization") == f"Bearer token-for-{GOOD_CODE}"
        if path == "/github-api/user":
            return self._send(200, {"login": "octo-cat", "name": "Octo Cat"})
        if path == "/github-api/user/emails":
            return self._send(200, [{"email": "octo@example.com", "primary": True, "verified": verified}])
        if path == "/google/certs":
            return self._send(200, {"keys": [_public_jwk()]})
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
        "GOOGLE_JWKS_URL": f"{base}/google/certs",
        "GOOGLE_ISSUER": ISSUER,
    }
