"""The keys and secrets each app signs and checks with, one per purpose, and where they come
from.

Each is read from the environment variable of its name (``make dev`` and the tests give the
values) or, on AWS, from the Secrets Manager secret ``<NAME>_ARN`` names. A value read from
Secrets Manager is used for ``MAX_AGE`` seconds, then read again (the old value is kept if
Secrets Manager does not answer), so a rotation reaches running containers without a
deployment. Each app is given only what it uses (``NEEDED_BY``); the template's roles may
read only those secrets.

Access tokens are signed with ES256: user_api alone holds the private keys
(``ACCESS_SIGNING_KEY``); every app checks them against the public keys
(``ACCESS_PUBLIC_KEYS``, a JWK set). A rotation (:func:`rotate`) publishes a new key
``ACTIVATION_DELAY`` before it signs anything, so every app has read it first, and keeps
the key it replaces until the last token that key signed has expired: nobody is logged out.

An HMAC secret is a random string, or ``{"current": ..., "previous": ...}`` while it is
being replaced (:func:`rotate_hmac_secret`): tokens are signed with the current value and
accepted with either.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .config import ConfigError, is_placeholder_secret

ACCESS_SIGNING_KEY = "ACCESS_SIGNING_KEY"  # user_api: {"keys": [{"kid", "key": <PKCS#8 PEM>, "not_before"}]}
ACCESS_PUBLIC_KEYS = "ACCESS_PUBLIC_KEYS"  # every app: {"keys": [<public JWK, with "exp" once retired>]}
LINK_SECRET = "LINK_SECRET"  # user_api: reset, confirmation, undo and unsubscribe links
SERVICE_SECRET = "SERVICE_SECRET"  # web_frontend and user_api: web_frontend's calls to the OAuth route
USER_API_CLIENT_SECRET = "USER_API_CLIENT_SECRET"  # web_frontend and user_api: the visitor's address
POST_API_CLIENT_SECRET = "POST_API_CLIENT_SECRET"  # web_frontend and post_api: the visitor's address
COOKIE_SECRET = "COOKIE_SECRET"  # web_frontend: CSRF tokens, flash messages, OAuth state
HMAC_SECRETS = (LINK_SECRET, SERVICE_SECRET, USER_API_CLIENT_SECRET, POST_API_CLIENT_SECRET, COOKIE_SECRET)
ALL = (ACCESS_SIGNING_KEY, ACCESS_PUBLIC_KEYS, *HMAC_SECRETS)

# What each function's code uses (checked at start-up; the template gives exactly these).
NEEDED_BY: dict[str, tuple[str, ...]] = {
    "user_api": (ACCESS_SIGNING_KEY, ACCESS_PUBLIC_KEYS, LINK_SECRET, SERVICE_SECRET, USER_API_CLIENT_SECRET),
    "send_email": (LINK_SECRET,),
    "republish_mail": (),
    "post_api": (ACCESS_PUBLIC_KEYS, POST_API_CLIENT_SECRET),
    "web_frontend": (ACCESS_PUBLIC_KEYS, SERVICE_SECRET, USER_API_CLIENT_SECRET, POST_API_CLIENT_SECRET, COOKIE_SECRET),
}

ALGORITHM = "ES256"
MAX_AGE = 300.0  # seconds a value read from Secrets Manager is used before it is read again
REFRESH_GAP = 30.0  # a value that failed a check is read again if it is older than this
ACTIVATION_DELAY = 2 * MAX_AGE + REFRESH_GAP  # a new key signs only once every app has read it
RETENTION_MARGIN = MAX_AGE  # a replaced key is kept this much longer than its last token

log = logging.getLogger("blog.keys")


# -- where values come from ---------------------------------------------------------------------


@dataclass
class _Cached:
    value: str
    read_at: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class SecretSource:
    """Reads secrets from ``environ`` (a value, or ``NAME_ARN`` for Secrets Manager) with a
    per-container cache. ``fetch_secret`` reads a Secrets Manager secret by ARN."""

    def __init__(self, environ: Callable[[str], str | None], fetch_secret: Callable[[str], str | None]) -> None:
        self.environ = environ
        self._fetch = fetch_secret
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def configured(self, name: str) -> bool:
        return bool(self.environ(name) or self.environ(f"{name}_ARN"))

    def given_directly(self, name: str) -> bool:
        return bool(self.environ(name))

    def get(self, name: str, max_age: float = MAX_AGE) -> str:
        """The value of ``name``; raises ConfigError when it is not given. A value from Secrets
        Manager older than ``max_age`` is read again; if that fails, the old one is used."""
        direct = self.environ(name)
        if direct:
            return direct
        arn = self.environ(f"{name}_ARN")
        if not arn:
            raise ConfigError(f"{name} is not set (give its value, or {name}_ARN for a Secrets Manager secret).")
        cached = self._cache.get(name)
        if cached is not None and time.monotonic() - cached.read_at < max_age:
            return cached.value
        with self._lock_of(name):  # one read at a time per secret; other secrets are not held up
            cached = self._cache.get(name)
            if cached is not None and time.monotonic() - cached.read_at < max_age:
                return cached.value
            try:
                value = self._fetch(arn)
            except Exception:
                if cached is None:
                    raise
                log.warning(
                    "could not read %s again; using the value read %.0f s ago", name, time.monotonic() - cached.read_at
                )
                return cached.value
            if not value:
                raise ConfigError(f"the secret {name}_ARN names is empty")
            self._cache[name] = _Cached(value, time.monotonic())
            return value

    def age(self, name: str) -> float:
        """Seconds since ``name`` was read from Secrets Manager (infinite when never; 0 for a
        value given directly, which never changes)."""
        if self.environ(name):
            return 0.0
        cached = self._cache.get(name)
        return time.monotonic() - cached.read_at if cached is not None else float("inf")

    def forget(self) -> None:
        with self._guard:
            self._cache.clear()

    def _lock_of(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())


def _fetch_from_secrets_manager(arn: str) -> str | None:
    from . import aws  # only needed when a secret lives in Secrets Manager

    value: str | None = aws.client("secretsmanager").get_secret_value(SecretId=arn).get("SecretString")
    return value


def _environment(name: str) -> str | None:
    return os.environ.get(name) or None


source = SecretSource(_environment, _fetch_from_secrets_manager)


# -- HMAC secrets -------------------------------------------------------------------------------


def hmac_secrets(name: str, fresh: bool = False) -> list[str]:
    """The values of one of ``HMAC_SECRETS``, the one to sign with first. ``fresh``: read it
    again if the cached value is older than ``REFRESH_GAP`` (after a failed check: a new value
    may be in use). A short or placeholder value is refused."""
    values = parse_hmac_secret(name, source.get(name, REFRESH_GAP if fresh else MAX_AGE))
    for value in values:
        if is_placeholder_secret(value):
            raise ConfigError(f"{name} is too short or a placeholder: use at least 32 random characters.")
    return values


def parse_hmac_secret(name: str, raw: str) -> list[str]:
    if not raw.lstrip().startswith("{"):
        return [raw]
    try:
        parsed = json.loads(raw)
        values = [str(parsed["current"])] + ([str(parsed["previous"])] if parsed.get("previous") else [])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f'{name} is neither a random string nor {{"current": ..., "previous": ...}}') from exc
    return values


def rotate_hmac_secret(raw: str) -> str:
    """A new value for an HMAC secret whose value is ``raw``: a new current one, the old
    current one still accepted as the previous."""
    current = parse_hmac_secret("the secret", raw)[0]
    return json.dumps({"current": secrets.token_urlsafe(48), "previous": current})


# -- access keys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    pem: str
    not_before: float = 0.0  # seconds since the epoch from which it signs


def signing_key(now: float | None = None) -> SigningKey:
    """The private key user_api signs access tokens with now: the newest one whose
    ``not_before`` has passed."""
    now = time.time() if now is None else now
    keys = parse_signing_keys(source.get(ACCESS_SIGNING_KEY))
    usable = [key for key in keys if key.not_before <= now]
    if not usable:
        raise ConfigError(f"{ACCESS_SIGNING_KEY} holds no key that signs yet")
    return max(usable, key=lambda key: key.not_before)


def parse_signing_keys(raw: str) -> list[SigningKey]:
    """The keys of an ``ACCESS_SIGNING_KEY`` value, each checked to be a P-256 private key."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    problem = f"{ACCESS_SIGNING_KEY} is not a key set made by blog_shared.keys"
    try:
        entries = json.loads(raw).get("keys", [])  # "{}": none yet (as the template makes it)
        keys = [SigningKey(str(e["kid"]), str(e["key"]), float(e.get("not_before", 0))) for e in entries]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(problem) from exc
    for key in keys:
        try:
            private = load_pem_private_key(key.pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{problem} (key {key.kid} is not a PEM private key)") from exc
        if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1" or not key.kid:
            raise ConfigError(f"{problem} (key {key.kid!r} is not a P-256 key with an id)")
    return keys


@dataclass(frozen=True)
class _PublicSet:
    raw: str
    keys: dict[str, tuple[Any, float | None]]  # kid -> (key, accepted until)


class PublicKeys:
    """The public keys access tokens are checked against, by key id. An entry that is not a
    P-256 public key is left out (and logged), so one bad entry cannot refuse every token.
    An unknown key id reads the set again if it is older than ``REFRESH_GAP``."""

    def __init__(self) -> None:
        self._parsed: _PublicSet | None = None

    def find(self, kid: str, now: float | None = None) -> Any | None:
        """The key to check a token of ``kid`` with, or None (unknown, or retired)."""
        now = time.time() if now is None else now
        found = self._current(source.get(ACCESS_PUBLIC_KEYS)).keys.get(kid)
        if found is None and source.age(ACCESS_PUBLIC_KEYS) > REFRESH_GAP:
            found = self._current(source.get(ACCESS_PUBLIC_KEYS, max_age=REFRESH_GAP)).keys.get(kid)
        if found is None:
            return None
        key, until = found
        return key if until is None or now < until else None

    def _current(self, raw: str) -> _PublicSet:
        parsed = self._parsed
        if parsed is None or parsed.raw != raw:
            parsed = _PublicSet(raw, parse_public_keys(raw))
            self._parsed = parsed
        return parsed


def parse_public_keys(raw: str) -> dict[str, tuple[Any, float | None]]:
    from jose import jwk
    from jose.exceptions import JOSEError

    try:
        entries = json.loads(raw)["keys"]
        if not isinstance(entries, list):
            raise TypeError("keys is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{ACCESS_PUBLIC_KEYS} is not a JWK set ({{'keys': [...]}})") from exc
    found: dict[str, tuple[Any, float | None]] = {}
    for entry in entries:
        try:
            if not isinstance(entry, dict) or entry.get("kty") != "EC" or entry.get("crv") != "P-256" or "d" in entry:
                raise ValueError("not a P-256 public key")
            kid = entry["kid"]
            if not isinstance(kid, str) or not kid or kid in found:
                raise ValueError("no key id, or one used twice")
            until = entry.get("exp")
            found[kid] = (jwk.construct(entry, ALGORITHM), float(until) if until is not None else None)
        except (JOSEError, ValueError, KeyError, TypeError) as error:
            log.error("%s: an entry is left out: %s", ACCESS_PUBLIC_KEYS, error)
    return found


public_keys = PublicKeys()


def new_signing_key(not_before: float = 0.0) -> SigningKey:
    """A new P-256 key pair, with a random key id."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey(kid=secrets.token_hex(8), pem=pem, not_before=not_before)


def public_jwk(key: SigningKey, until: float | None = None) -> dict[str, Any]:
    from jose import jwk

    public: dict[str, Any] = jwk.construct(key.pem, ALGORITHM).public_key().to_dict()
    entry = {**public, "kid": key.kid, "alg": ALGORITHM, "use": "sig", "nbf": int(key.not_before)}
    return entry if until is None else {**entry, "exp": int(until)}


class KeyStore(Protocol):
    """Where the access keys are kept: read and write ``ACCESS_SIGNING_KEY`` and
    ``ACCESS_PUBLIC_KEYS`` (Secrets Manager on AWS, ``.devdb/secrets.json`` locally)."""

    def read(self, name: str) -> str | None: ...

    def write(self, name: str, value: str) -> None: ...


def rotate(
    store: KeyStore,
    longest_token: float,
    now: float | None = None,
    delay: float = ACTIVATION_DELAY,
    revoke: bool = False,
) -> SigningKey:
    """Make a new signing key, published now and signing from ``now + delay`` (at once when
    there is no key yet). The key it replaces is accepted until ``longest_token`` seconds
    (the longest a token lives) after it stops signing; older retired keys stay until their
    own time is up. ``revoke`` (after a leak) drops every other key at once instead: every
    session ends. The public keys are written first."""
    now = time.time() if now is None else now
    existing = parse_signing_keys(store.read(ACCESS_SIGNING_KEY) or '{"keys": []}')
    current = max((k for k in existing if k.not_before <= now), key=lambda k: k.not_before, default=None)
    new = new_signing_key(not_before=now if current is None or revoke else now + delay)
    published: list[dict[str, Any]] = [public_jwk(new)]
    if current is not None and not revoke:
        published.append(public_jwk(current, until=new.not_before + longest_token + RETENTION_MARGIN))
        # Keys retired before keep their own time; keys that were to sign later never did.
        retired = json.loads(store.read(ACCESS_PUBLIC_KEYS) or '{"keys": []}').get("keys", [])
        published += [
            entry
            for entry in retired
            if isinstance(entry, dict) and entry.get("kid") != current.kid and float(entry.get("exp") or 0) > now
        ]
    signing = [new] + ([current] if current is not None and not revoke else [])
    store.write(ACCESS_PUBLIC_KEYS, json.dumps({"keys": published}))
    store.write(
        ACCESS_SIGNING_KEY,
        json.dumps({"keys": [{"kid": k.kid, "key": k.pem, "not_before": k.not_before} for k in signing]}),
    )
    return new


def has_signing_key(store: KeyStore) -> bool:
    raw = store.read(ACCESS_SIGNING_KEY)
    try:
        return bool(raw and parse_signing_keys(raw))
    except ConfigError:
        return False


class DictStore:
    """Keys kept in a dict (``make dev``'s secrets file, the tests)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def read(self, name: str) -> str | None:
        return self.values.get(name)

    def write(self, name: str, value: str) -> None:
        self.values[name] = value


class SecretsManagerStore:
    """The access keys' secrets in Secrets Manager, by ``<NAME>_ARN`` (for the function that
    makes and rotates them)."""

    def __init__(self, arns: dict[str, str]) -> None:
        from . import aws

        self.arns = arns
        self.client = aws.client("secretsmanager")

    def read(self, name: str) -> str | None:
        value: str | None = self.client.get_secret_value(SecretId=self.arns[name]).get("SecretString")
        return value

    def write(self, name: str, value: str) -> None:
        self.client.put_secret_value(SecretId=self.arns[name], SecretString=value)


def generate_values() -> dict[str, str]:
    """Every secret, freshly made (for ``make dev`` and the tests)."""
    values: dict[str, str] = {name: secrets.token_urlsafe(48) for name in HMAC_SECRETS}
    rotate(DictStore(values), longest_token=0)
    return values


def check(names: Iterable[str]) -> None:
    """At start-up: each of ``names`` is configured, and a value given directly is usable
    (values behind an ARN are checked when first read)."""
    for name in names:
        if not source.configured(name):
            raise ConfigError(f"{name} is not set (give its value, or {name}_ARN for a Secrets Manager secret).")
        if not source.given_directly(name):
            continue
        if name in HMAC_SECRETS:
            hmac_secrets(name)
        elif name == ACCESS_SIGNING_KEY:
            signing_key()
            if source.given_directly(ACCESS_PUBLIC_KEYS):
                published = parse_public_keys(source.get(ACCESS_PUBLIC_KEYS))
                unpublished = [k.kid for k in parse_signing_keys(source.get(name)) if k.kid not in published]
                if unpublished:
                    raise ConfigError(f"{ACCESS_PUBLIC_KEYS} lacks the signing keys {', '.join(unpublished)}")
        else:
            parse_public_keys(source.get(name))
