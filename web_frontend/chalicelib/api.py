"""The web app's only way to data: user_api and post_api over HTTP/JSON.

One ``requests.Session`` per container (kept-alive connections), a timeout on every
call, and the user's own access token forwarded as ``Authorization: Bearer``. An API
that cannot be reached (or answers 5xx) raises :class:`ServiceUnavailableError`, which the
app shows as a friendly 503 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from chalice.app import ChaliceUnhandledError

from blog_shared import tokens
from blog_shared.config import get_settings

_session = requests.Session()


class ServiceUnavailableError(ChaliceUnhandledError):
    """A backend API is down or broken (shown as a 503 page)."""


@dataclass
class ApiResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def message(self) -> str:
        return str(self.body.get("message") or "Something went wrong.")

    @property
    def errors(self) -> dict[str, list[str]]:
        return self.body.get("errors") or {}


def call(
    service: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json: Any = None,
    params: dict[str, Any] | None = None,
    client: str | None = None,
) -> ApiResponse:
    """``service`` is "users" or "posts". ``client`` is the visitor's address, for the calls
    the APIs rate-limit per address (otherwise they count every visitor as the site)."""
    settings = get_settings()
    base = settings.user_api_url if service == "users" else settings.post_api_url
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if client:
        headers[tokens.CLIENT_HEADER] = tokens.client_token("user-api" if service == "users" else "post-api", client)
    try:
        response = _session.request(
            method, base + path, json=json, params=params, headers=headers, timeout=settings.api_timeout
        )
    except requests.RequestException as error:
        raise ServiceUnavailableError(f"{service} API unreachable: {error.__class__.__name__}") from error
    if response.status_code >= 500:
        raise ServiceUnavailableError(f"{service} API answered {response.status_code}")
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = {}
    return ApiResponse(response.status_code, body if isinstance(body, dict) else {}, dict(response.headers))
