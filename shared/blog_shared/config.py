"""Settings read from the environment, once per Lambda container.

Every app reads its configuration here and nowhere else (its keys and secrets through
``blog_shared.keys``). A missing key or a placeholder secret is refused at start-up, so a
misconfigured deployment fails loudly instead of signing tokens with "secret".
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

PLACEHOLDER_SECRETS = frozenset(
    {"", "secret", "changeme", "change-me", "change_me", "placeholder", "dev", "test", "jwt-secret"}
)
MIN_SECRET_LENGTH = 32

# The mail queue's name is fixed when an app is packaged (Chalice writes the SQS event
# source into the template), so it is read here at import time, not per request.
EMAIL_QUEUE_NAME = os.environ.get("EMAIL_QUEUE_NAME", "serverless-blog-email")


class ConfigError(RuntimeError):
    """The environment does not describe a usable deployment."""


@dataclass(frozen=True)
class OAuthProvider:
    """A sign-in provider web_frontend offers (configured when its client id is set)."""

    name: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    scope: str
    profile_url: str | None = None  # GitHub: the user and their addresses
    emails_url: str | None = None
    jwks_url: str | None = None  # OpenID Connect (Google): the keys and issuers of its ID tokens
    issuers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    stage: str
    database_url: str
    database_secret_arn: str | None
    database_host: str | None
    database_tls: str
    db_pool_size: int
    jwt_issuer: str
    jwt_audience: str
    access_token_ttl: int
    remember_token_ttl: int
    aws_endpoint_url: str | None
    aws_region: str
    avatar_base_url: str | None
    max_body_bytes: int
    user_api_url: str
    post_api_url: str
    api_timeout: float
    avatar_bucket: str
    public_url: str
    email_queue_url: str | None
    ses_sender: str
    oauth_providers: tuple[OAuthProvider, ...]
    rate_limit_scale: float

    def oauth_provider(self, name: str) -> OAuthProvider | None:
        return next((p for p in self.oauth_providers if p.name == name), None)

    @property
    def is_dev(self) -> bool:
        return self.stage == "dev"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if not value > 0:
        raise ConfigError(f"{name} must be above 0, got {raw!r}")
    return value


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(name) or default
    if raw not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def is_placeholder_secret(secret: str | None) -> bool:
    return secret is None or secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH


def load_settings() -> Settings:
    """Build settings from ``os.environ``; raises ConfigError when they are unusable."""
    env = os.environ
    stage = env.get("APP_STAGE", "prod")
    return Settings(
        stage=stage,
        database_url=env.get("DATABASE_URL", "postgresql+pg8000://postgres@127.0.0.1:5432/blog"),
        database_secret_arn=env.get("DATABASE_SECRET_ARN") or None,
        database_host=env.get("DATABASE_HOST") or None,
        database_tls=_choice("DATABASE_TLS", ("off", "require", "verify"), "off"),
        db_pool_size=_int("DB_POOL_SIZE", 1),
        jwt_issuer=env.get("JWT_ISSUER", "serverless-blog"),
        jwt_audience=env.get("JWT_AUDIENCE", "serverless-blog-api"),
        access_token_ttl=_int("ACCESS_TOKEN_TTL", 24 * 3600),
        remember_token_ttl=_int("REMEMBER_TOKEN_TTL", 30 * 24 * 3600),
        aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        avatar_base_url=(env.get("AVATAR_BASE_URL") or "").rstrip("/") or None,
        max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024),
        user_api_url=env.get("USER_API_URL", "http://127.0.0.1:8001").rstrip("/"),
        post_api_url=env.get("POST_API_URL", "http://127.0.0.1:8002").rstrip("/"),
        api_timeout=float(_int("API_TIMEOUT_SECONDS", 10)),
        avatar_bucket=env.get("AVATAR_BUCKET", "serverless-blog-avatars"),
        public_url=env.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        email_queue_url=env.get("EMAIL_QUEUE_URL") or None,
        ses_sender=env.get("SES_SENDER", "Serverless Blog <no-reply@blog.example.com>"),
        oauth_providers=_oauth_providers(env),
        rate_limit_scale=_float("RATE_LIMIT_SCALE", 1.0),
    )


def _oauth_providers(env: os._Environ[str] | dict[str, str]) -> tuple[OAuthProvider, ...]:
    providers = []
    if env.get("GITHUB_CLIENT_ID"):
        site = env.get("GITHUB_OAUTH_URL", "https://github.com").rstrip("/")
        api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
        providers.append(
            OAuthProvider(
                name="github",
                client_id=env["GITHUB_CLIENT_ID"],
                client_secret=env.get("GITHUB_CLIENT_SECRET", ""),
                authorize_url=f"{site}/login/oauth/authorize",
                token_url=f"{site}/login/oauth/access_token",
                profile_url=f"{api}/user",
                emails_url=f"{api}/user/emails",
                scope="read:user user:email",
            )
        )
    if env.get("GOOGLE_CLIENT_ID"):
        providers.append(
            OAuthProvider(
                name="google",
                client_id=env["GOOGLE_CLIENT_ID"],
                client_secret=env.get("GOOGLE_CLIENT_SECRET", ""),
                authorize_url=env.get("GOOGLE_AUTH_URL", "https://accounts.google.com/o/oauth2/v2/auth"),
                token_url=env.get("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"),
                jwks_url=env.get("GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs"),
                issuers=(
                    (env["GOOGLE_ISSUER"],)
                    if env.get("GOOGLE_ISSUER")
                    else ("https://accounts.google.com", "accounts.google.com")
                ),
                scope="openid email profile",
            )
        )
    return tuple(providers)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings; ``get_settings.cache_clear()`` re-reads the environment."""
    return load_settings()


# Chalice commands that import app.py only to read its routes, never to serve.
_CHALICE_BUILD_COMMANDS = frozenset({"package", "deploy", "delete", "generate-sdk", "generate-models", "url"})


def require_public_addresses(settings: Settings, names: Iterable[str]) -> None:
    """Outside dev, the addresses an app hands out or calls (``PUBLIC_URL`` in mail and OAuth
    callbacks, the APIs the site calls) must be https and not this machine."""
    if settings.is_dev:
        return
    values = {"PUBLIC_URL": settings.public_url, "USER_API_URL": settings.user_api_url}
    values["POST_API_URL"] = settings.post_api_url
    for name in names:
        url = values[name]
        host = (urlsplit(url).hostname or "").lower()
        local = host in ("", "localhost") or host.endswith(".localhost") or _is_loopback(host)
        if not url.startswith("https://") or local:
            raise ConfigError(
                f"{name} must be an https:// address of another machine outside the dev stage "
                f"(stage {settings.stage!r}), got {url!r}."
            )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_at_startup(function: str, addresses: Iterable[str] = ()) -> None:
    """Called when a function's code is imported: refuse to serve with unusable settings (a bad
    number, a missing key or a placeholder secret among those ``function`` uses (see
    ``keys.NEEDED_BY``), ``addresses`` that are plain http or this machine outside dev).
    Skipped when the Chalice CLI imports the app to build it. (The migration function signs
    nothing, so it does not call this.)"""
    argv = sys.argv
    if len(argv) > 1 and os.path.basename(argv[0]) == "chalice" and argv[1] in _CHALICE_BUILD_COMMANDS:
        return
    from . import keys  # keys reads ConfigError from here

    settings = get_settings()
    keys.check(keys.NEEDED_BY[function])
    require_public_addresses(settings, addresses)
