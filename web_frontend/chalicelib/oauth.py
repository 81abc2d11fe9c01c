"""Sign in with Google or GitHub (OAuth 2 authorization-code flow with PKCE).

The ``state`` is random, kept in a signed, short-lived, HttpOnly cookie and compared on
the way back, so a callback cannot be forged or replayed from another browser. The same
cookie keeps the PKCE verifier (S256): a code taken from another browser's callback cannot
be exchanged here. With Google (OpenID Connect) the identity is its ID token, verified here:
its signature against Google's published keys, ``iss``, ``aud`` (our client id), ``exp`` and
the ``nonce`` this sign-in sent. The email must be verified by the provider; user_api then
finds or creates the account (it trusts only web_frontend's service token for that).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from jose import JWTError, jwt

from blog_shared import tokens
from blog_shared.config import OAuthProvider, get_settings

from . import api

STATE_COOKIE = "oauth_state"
STATE_SECONDS = 600


class OAuthError(Exception):
    """The provider said no, or what came back cannot be trusted."""


def redirect_uri(provider: OAuthProvider) -> str:
    return f"{get_settings().public_url}/login/{provider.name}/callback"


def code_challenge(verifier: str) -> str:
    """PKCE's S256 challenge of a verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@dataclass(frozen=True)
class Attempt:
    """One sign-in, as its state cookie remembers it."""

    state: str
    verifier: str  # PKCE
    nonce: str  # OpenID Connect: echoed in the ID token
    next_page: str


def authorization_url(provider: OAuthProvider, attempt: Attempt) -> str:
    params = {
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri(provider),
        "scope": provider.scope,
        "state": attempt.state,
        "response_type": "code",
        "code_challenge": code_challenge(attempt.verifier),
        "code_challenge_method": "S256",
    }
    if provider.jwks_url:
        params["nonce"] = attempt.nonce
    return f"{provider.authorize_url}?{urlencode(params)}"


def new_attempt(provider: OAuthProvider, next_page: str) -> tuple[Attempt, str]:
    """A new sign-in and the signed cookie value remembering it."""
    attempt = Attempt(secrets.token_urlsafe(24), secrets.token_urlsafe(48), secrets.token_urlsafe(16), next_page)
    cookie = tokens.issue(
        provider.name,
        tokens.OAUTH_STATE,
        STATE_SECONDS,
        state=attempt.state,
        verifier=attempt.verifier,
        nonce=attempt.nonce,
        next=next_page,
    ).token
    return attempt, cookie


def check_state(provider: OAuthProvider, cookie: str | None, returned: str | None) -> Attempt:
    """The sign-in the cookie remembers; OAuthError when the state does not match."""
    try:
        claims = tokens.decode(cookie or "", tokens.OAUTH_STATE)
    except tokens.TokenError:
        raise OAuthError("missing or expired state") from None
    expected = str(claims.extra.get("state", ""))
    # compare_digest refuses non-ASCII text: such a state is simply not ours.
    if claims.subject != provider.name or not returned or not returned.isascii():
        raise OAuthError("state mismatch")
    if not hmac.compare_digest(expected, returned):
        raise OAuthError("state mismatch")
    extra = claims.extra
    return Attempt(expected, str(extra.get("verifier", "")), str(extra.get("nonce", "")), str(extra.get("next") or "/"))


def _json(response: requests.Response) -> Any:
    if response.status_code != 200:
        raise OAuthError(f"provider answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise OAuthError("provider answered something other than JSON") from None


def verified_identity(provider: OAuthProvider, code: str, attempt: Attempt) -> tuple[str, str]:
    """Exchange the code (with the PKCE verifier); returns (verified email, username hint)."""
    timeout = get_settings().api_timeout
    try:
        grant = _json(
            requests.post(
                provider.token_url,
                data={
                    "client_id": provider.client_id,
                    "client_secret": provider.client_secret,
                    "code": code,
                    "code_verifier": attempt.verifier,
                    "redirect_uri": redirect_uri(provider),
                    "grant_type": "authorization_code",
                },
                headers={"Accept": "application/json"},
                timeout=timeout,
            )
        )
        if not isinstance(grant, dict):
            raise OAuthError("no grant")
        if provider.jwks_url:  # Google: the ID token says who it is
            claims = id_token_claims(provider, grant.get("id_token"), attempt.nonce, grant.get("access_token"))
            email = claims.get("email") if claims.get("email_verified") is True else None
            hint = claims.get("given_name") or claims.get("name") or str(email or "").split("@")[0]
        else:  # GitHub: the primary, verified address
            access_token = grant.get("access_token")
            if not access_token or not provider.profile_url or not provider.emails_url:
                raise OAuthError("no access token")
            auth = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
            profile = _json(requests.get(provider.profile_url, headers=auth, timeout=timeout))
            emails = _json(requests.get(provider.emails_url, headers=auth, timeout=timeout))
            email = next(
                (e.get("email") for e in emails if isinstance(e, dict) and e.get("primary") and e.get("verified")),
                None,
            )
            hint = profile.get("login") or "" if isinstance(profile, dict) else ""
    except requests.RequestException as error:
        raise OAuthError(f"provider unreachable: {error.__class__.__name__}") from error
    if not email:
        raise OAuthError("no verified email")
    return str(email), str(hint)


ID_TOKEN_ALGORITHMS = ["RS256"]
_KEYS: dict[str, tuple[float, dict[str, Any]]] = {}  # per container: the provider's key set
KEYS_SECONDS = 3600


def _key_set(provider: OAuthProvider, refresh: bool = False) -> dict[str, Any]:
    assert provider.jwks_url is not None
    fetched = _KEYS.get(provider.jwks_url)
    if refresh or fetched is None or time.monotonic() - fetched[0] > KEYS_SECONDS:
        keys = _json(requests.get(provider.jwks_url, timeout=get_settings().api_timeout))
        if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
            raise OAuthError("the provider's key set is not one")
        fetched = _KEYS[provider.jwks_url] = (time.monotonic(), keys)
    return fetched[1]


def _key(keys: dict[str, Any], kid: Any) -> dict[str, Any] | None:
    """The published key the token names (only that one may have signed it)."""
    return next((key for key in keys["keys"] if isinstance(key, dict) and kid and key.get("kid") == kid), None)


def id_token_claims(provider: OAuthProvider, id_token: Any, nonce: str, access_token: Any) -> dict[str, Any]:
    """The claims of an OpenID Connect ID token, verified: signature (the provider's keys,
    fetched again once when the token names a key not seen yet), issuer, audience, expiry, our
    nonce, and ``at_hash`` against the access token it came with."""
    if not isinstance(id_token, str) or not id_token.isascii() or len(id_token) > 8192:
        raise OAuthError("no ID token")
    try:
        kid = jwt.get_unverified_header(id_token).get("kid")
        key = _key(_key_set(provider), kid) or _key(_key_set(provider, refresh=True), kid)  # keys rotate
        if key is None:
            raise OAuthError("ID token signed with a key the provider does not publish")
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=ID_TOKEN_ALGORITHMS,
            audience=provider.client_id,
            access_token=access_token if isinstance(access_token, str) else None,
            options={"require_exp": True, "require_iat": True, "require_aud": True, "require_iss": True},
        )
    except JWTError as error:
        raise OAuthError(f"ID token refused: {error}") from None
    if claims.get("iss") not in provider.issuers:
        raise OAuthError("ID token from another issuer")
    if not nonce or not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise OAuthError("ID token for another sign-in (nonce)")
    return claims


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
