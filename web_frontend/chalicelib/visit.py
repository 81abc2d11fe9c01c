"""What the web app knows about the person making this request, kept in cookies:

- ``session``: the user's access token from user_api (a signed JWT). HttpOnly,
  SameSite=Lax, Secure outside local dev; a browser-session cookie, or 30 days with
  "remember me". Logging out revokes the token at user_api, so a copied cookie dies too.
- ``csrf``: a random seed; forms carry HMAC(key, seed), checked on every POST.
- ``flash``: messages for the next page, signed (a short-lived JWT), shown once.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from chalice.app import Request

from blog_shared import tokens
from blog_shared.config import get_settings

from . import api

SESSION_COOKIE = "session"
CSRF_COOKIE = "csrf"
FLASH_COOKIE = "flash"
REMEMBER_SECONDS = 30 * 24 * 3600


CSRF_SHAPE = re.compile(r"[0-9a-f]{64}")


@dataclass
class Visit:
    request: Request
    cookies: dict[str, str]
    token: str | None = None
    session_id: str = ""  # the jti of the session's token, "" when anonymous
    user: dict[str, Any] | None = None
    csrf_seed: str = ""
    incoming_flashes: list[tuple[str, str]] = field(default_factory=list)
    outgoing_flashes: list[tuple[str, str]] = field(default_factory=list)
    set_cookies: list[str] = field(default_factory=list)
    form: dict[str, Any] | None = None

    @property
    def address(self) -> str:
        """The visitor's address, as API Gateway saw it."""
        identity = self.request.context.get("identity") or {}
        return str(identity.get("sourceIp") or "")

    # -- login state -------------------------------------------------------------------------

    def log_in(self, token: str, user: dict[str, Any], remember: bool) -> None:
        self.token, self.user = token, user
        self.set_cookie(SESSION_COOKIE, token, REMEMBER_SECONDS if remember else None)

    def log_out(self) -> None:
        self.token, self.user = None, None
        self.set_cookie(SESSION_COOKIE, "", 0)

    # -- flash messages ----------------------------------------------------------------------

    def flash(self, message: str, category: str = "info") -> None:
        self.outgoing_flashes.append((category, message))

    def take_flashes(self) -> list[tuple[str, str]]:
        """Messages to show on this page (each is shown once)."""
        shown = self.incoming_flashes + self.outgoing_flashes
        self.incoming_flashes, self.outgoing_flashes = [], []
        return shown

    # -- CSRF --------------------------------------------------------------------------------

    @property
    def csrf_token(self) -> str:
        """HMAC of the CSRF cookie's seed and of the login session (its token's id), so a
        planted cookie pair is useless and a token does not outlive its session."""
        return tokens.cookie_mac(self._csrf_message)

    @property
    def _csrf_message(self) -> str:
        return f"csrf:{self.csrf_seed}:{self.session_id}"

    def csrf_ok(self, submitted: object) -> bool:
        # Checked as the shape we issue (64 hex digits) before the constant-time comparison,
        # which refuses non-ASCII text with a TypeError.
        return (
            isinstance(submitted, str)
            and CSRF_SHAPE.fullmatch(submitted) is not None
            and bool(self.cookies.get(CSRF_COOKIE))
            and tokens.cookie_mac_matches(self._csrf_message, submitted)
        )

    # -- cookies -----------------------------------------------------------------------------

    def set_cookie(self, name: str, value: str, max_age: int | None) -> None:
        parts = [f"{cookie_name(name)}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if not get_settings().is_dev:
            parts.append("Secure")
        self.set_cookies.append("; ".join(parts))

    def outgoing_cookies(self) -> list[str]:
        """Set-Cookie values for the response: flashes not shown yet go to the next page."""
        cookies = list(self.set_cookies)
        pending = self.incoming_flashes + self.outgoing_flashes  # not shown on this response
        if pending:
            issued = tokens.issue("flash", tokens.FLASH, 300, messages=pending[:10])
            cookies.append(self._cookie_line(FLASH_COOKIE, issued.token, None))
        elif self.cookies.get(FLASH_COOKIE):
            cookies.append(self._cookie_line(FLASH_COOKIE, "", 0))
        return cookies

    def _cookie_line(self, name: str, value: str, max_age: int | None) -> str:
        before = len(self.set_cookies)
        self.set_cookie(name, value, max_age)
        return self.set_cookies.pop(before)


class _Current(threading.local):
    """The visit of the request this thread is handling (set by :func:`start`)."""

    visit: Visit


_current = _Current()


HOST_PREFIX = "__Host-"


def cookie_name(name: str) -> str:
    """Outside local dev (plain http) every cookie is a ``__Host-`` cookie: the browser keeps
    it only if it came over https for this very host, so no subdomain can set or shadow it."""
    return name if get_settings().is_dev else HOST_PREFIX + name


def _parse_cookies(request: Request) -> dict[str, str]:
    """The request's cookies by their names in the code (``session``, ``csrf``, ...); outside
    dev only their ``__Host-`` forms count."""
    jar: SimpleCookie = SimpleCookie()
    headers: Mapping[str, str] = request.headers or {}
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed Cookie header means no cookies, not a 500
        return {}
    if get_settings().is_dev:
        return {name: morsel.value for name, morsel in jar.items()}
    return {name.removeprefix(HOST_PREFIX): m.value for name, m in jar.items() if name.startswith(HOST_PREFIX)}


def _read_flashes(raw: str | None) -> list[tuple[str, str]]:
    if not raw:
        return []
    try:
        claims = tokens.decode(raw, tokens.FLASH)
    except tokens.TokenError:
        return []
    messages = claims.extra.get("messages") or []
    return [(str(c), str(m)) for c, m in messages if isinstance(c, str) and isinstance(m, str)]


def start(request: Request) -> Visit:
    """Read the cookies of a request (no network): the visitor is anonymous until identified."""
    cookies = _parse_cookies(request)
    visit = Visit(request=request, cookies=cookies, incoming_flashes=_read_flashes(cookies.get(FLASH_COOKIE)))
    visit.csrf_seed = cookies.get(CSRF_COOKIE) or ""
    if not visit.csrf_seed:
        visit.csrf_seed = secrets.token_urlsafe(32)
        visit.set_cookie(CSRF_COOKIE, visit.csrf_seed, None)
    _current.visit = visit
    return visit


def identify(visit: Visit) -> None:
    """Look the session's user up at user_api with their own token (which also proves it
    was not revoked by a logout or a password change)."""
    token = visit.cookies.get(SESSION_COOKIE)
    if token:
        try:
            claims = tokens.decode(token, tokens.ACCESS)
        except tokens.TokenError:
            claims = None
        if claims is not None:
            found = api.call("users", "GET", f"/users/{claims.subject}", token=token)
            if found.ok:
                visit.token, visit.user, visit.session_id = token, found.data, str(claims.jti)
        if visit.user is None:  # expired, revoked or forged: forget it
            visit.set_cookie(SESSION_COOKIE, "", 0)


def current() -> Visit:
    return _current.visit
