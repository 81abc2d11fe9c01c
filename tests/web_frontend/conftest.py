"""The web frontend in-process (chalice.test.Client), talking over HTTP to user_api and
post_api under `chalice local`, with a cookie jar like a browser's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from tests.conftest import PASSWORD, REPO, load_app


class Browser:
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
        return self.request("GET", path)

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

    def sign_up(self, username: str) -> Browser:
        assert self.register(username).status_code == 303
        assert self.login(username).status_code == 303
        return self

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


@pytest.fixture(scope="session")
def web_app(api_servers: dict[str, str]) -> Any:
    return load_app("web_frontend").app


@pytest.fixture
def browser(web_app: Any) -> Iterator[Browser]:
    with Client(web_app, stage_name="dev", project_dir=str(REPO / "web_frontend")) as client:
        yield Browser(client)


@pytest.fixture
def second_browser(web_app: Any) -> Iterator[Browser]:
    with Client(web_app, stage_name="dev", project_dir=str(REPO / "web_frontend")) as client:
        yield Browser(client)
