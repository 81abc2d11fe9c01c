"""Sign in with Google or GitHub (OAuth 2 authorization-code flow).

The ``state`` is random, kept in a signed, short-lived, HttpOnly cookie and compared on
the way back, so a callback cannot be forged or replayed from another browser. The email
must be verified by the provider; user_api then finds or creates the account (it trusts
only web_frontend's service token for that).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

import requests

from blog_shared import tokens
from blog_shared.config import OAuthProvider, get_settings

from . import api

STATE_COOKIE = "oauth_state"
STATE_PURPOSE = "oauth_state"
STATE_SECONDS = 600


class OAuthError(Exception):
    """The provider said no, or what came back cannot be trusted."""


def redirect_uri(provider: OAuthProvider) -> str:
    return f"{get_settings().public_url}/login/{provider.name}/callback"


def authorization_url(provider: OAuthProvider, state: str) -> str:
    params = {
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri(provider),
        "scope": provider.scope,
        "state": state,
        "response_type": "code",
    }
    return f"{provider.authorize_url}?{urlencode(params)}"


def new_state(provider: OAuthProvider, next_page: str) -> tuple[str, str]:
    """(state for the provider, signed cookie value remembering it)."""
    state = secrets.token_urlsafe(24)
    cookie = tokens.issue(provider.name, STATE_PURPOSE, STATE_SECONDS, state=state, next=next_page).token
    return state, cookie


def check_state(provider: OAuthProvider, cookie: str | None, returned: str | None) -> str:
    """The ``next`` page saved with the state; OAuthError when the state does not match."""
    try:
        claims = tokens.decode(cookie or "", STATE_PURPOSE)
    except tokens.TokenError:
        raise OAuthError("missing or expired state") from None
    expected = str(claims.extra.get("state", ""))
    # compare_digest refuses non-ASCII text: such a state is simply not ours.
    if claims.subject != provider.name or not returned or not returned.isascii():
        raise OAuthError("state mismatch")
    if not hmac.compare_digest(expected, returned):
        raise OAuthError("state mismatch")
    return str(claims.extra.get("next") or "/")


def _json(response: requests.Response) -> Any:
    if response.status_code != 200:
        raise OAuthError(f"provider answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise OAuthError("provider answered something other than JSON") from None


def verified_identity(provider: OAuthProvider, code: str) -> tuple[str, str]:
    """Exchange the code; returns (verified email, username hint)."""
    timeout = get_settings().api_timeout
    try:
        grant = _json(
            requests.post(
                provider.token_url,
                data={
                    "client_id": provider.client_id,
                    "client_secret": provider.client_secret,
                    "code": code,
                    "redirect_uri": redirect_uri(provider),
                    "grant_type": "authorization_code",
                },
                headers={"Accept": "application/json"},
                timeout=timeout,
            )
        )
        access_token = grant.get("access_token") if isinstance(grant, dict) else None
        if not access_token:
            raise OAuthError("no access token")
        auth = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        profile = _json(requests.get(provider.profile_url, headers=auth, timeout=timeout))
        if provider.emails_url:  # GitHub: the primary, verified address
            emails = _json(requests.get(provider.emails_url, headers=auth, timeout=timeout))
            email = next(
                (e.get("email") for e in emails if isinstance(e, dict) and e.get("primary") and e.get("verified")),
                None,
            )
            hint = profile.get("login") or ""
        else:  # Google: OpenID Connect userinfo
            email = profile.get("email") if profile.get("email_verified") is True else None
            hint = profile.get("given_name") or profile.get("name") or (email or "").split("@")[0]
    except requests.RequestException as error:
        raise OAuthError(f"provider unreachable: {error.__class__.__name__}") from error
    if not email:
        raise OAuthError("no verified email")
    return str(email), str(hint)


def sign_in(provider: OAuthProvider, email: str, hint: str) -> api.ApiResponse:
    """Ask user_api for the account of this email (with web_frontend's service token)."""
    service = tokens.issue("web_frontend", tokens.SERVICE, 60).token
    return api.call(
        "users",
        "POST",
        "/oauth-users",
        token=service,
        json={"provider": provider.name, "email": email, "username_hint": hint},
    )
