"""The keys and secrets each app signs and checks with, one per purpose, and where they come
from.

Each is read from the environment variable of its name (``make dev`` and the tests give the
values) or, on AWS, from the Secrets Manager secret ``<NAME>_ARN`` names. A secret read from
Secrets Manager is read again after ``MAX_AGE`` seconds, so a rotation reaches running
containers without a deployment. Each app is given only what it uses (``NEEDED_BY``); the
template's roles may read only those secrets.

Access tokens are signed with ES256: user_api alone holds the private key
(``ACCESS_SIGNING_KEY``); every app checks them against the public keys
(``ACCESS_PUBLIC_KEYS``, a JWK set), which during a rotation hold the new key and the one
before it, so tokens signed before the rotation stay valid until they expire.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .config import ConfigError, is_placeholder_secret

ACCESS_SIGNING_KEY = "ACCESS_SIGNING_KEY"  # user_api: {"kid": ..., "key": <PKCS#8 PEM>}
ACCESS_PUBLIC_KEYS = "ACCESS_PUBLIC_KEYS"  # every app: {"keys": [<public JWK>, ...]}
LINK_SECRET = "LINK_SECRET"  # user_api: reset, confirmation, undo and unsubscribe links
SERVICE_SECRET = "SERVICE_SECRET"  # web_frontend and user_api: web_frontend's calls to the OAuth routes
CLIENT_ADDRESS_SECRET = "CLIENT_ADDRESS_SECRET"  # web_frontend and the APIs: the visitor's address header
COOKIE_SECRET = "COOKIE_SECRET"  # web_frontend: CSRF tokens, flash messages, OAuth state
HMAC_SECRETS = (LINK_SECRET, SERVICE_SECRET, CLIENT_ADDRESS_SECRET, COOKIE_SECRET)
ALL = (ACCESS_SIGNING_KEY, ACCESS_PUBLIC_KEYS, *HMAC_SECRETS)

# What each function's code uses (checked at start-up; the template gives exactly these).
NEEDED_BY: dict[str, tuple[str, ...]] = {
    "user_api": (ACCESS_SIGNING_KEY, ACCESS_PUBLIC_KEYS, LINK_SECRET, SERVICE_SECRET, CLIENT_ADDRESS_SECRET),
    "send_email": (LINK_SECRET,),
    "post_api": (ACCESS_PUBLIC_KEYS, CLIENT_ADDRESS_SECRET),
    "web_frontend": (ACCESS_PUBLIC_KEYS, SERVICE_SECRET, CLIENT_ADDRESS_SECRET, COOKIE_SECRET),
    "republish_mail": (),
}

ALGORITHM = "ES256"
MAX_AGE = 300.0  # seconds a value read from Secrets Manager is used before it is read again
REFRESH_GAP = 30.0  # an unknown key id reads the public keys again at most this often

Reader = Callable[[str], str | None]


@dataclass
class _Cached:
    value: str
    read_at: float


class SecretSource:
    """Reads secrets from ``environ`` (a value, or ``NAME_ARN`` for Secrets Manager) with a
    per-container cache. ``fetch_secret`` reads a Secrets Manager secret by ARN."""

    def __init__(self, environ: Callable[[str], str | None], fetch_secret: Reader) -> None:
        self._environ = environ
        self._fetch = fetch_secret
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def configured(self, name: str) -> bool:
        return bool(self._environ(name) or self._environ(f"{name}_ARN"))

    def get(self, name: str, max_age: float = MAX_AGE) -> str:
        """The value of ``name``; raises ConfigError when it is not given."""
        direct = self._environ(name)
        if direct:
            return direct
        arn = self._environ(f"{name}_ARN")
        if not arn:
            raise ConfigError(f"{name} is not set (give its value, or {name}_ARN for a Secrets Manager secret).")
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and time.monotonic() - cached.read_at < max_age:
                return cached.value
            value = self._fetch(arn)
            if not value:
                raise ConfigError(f"the secret {name}_ARN names is empty")
            self._cache[name] = _Cached(value, time.monotonic())
            return value

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


def _fetch_from_secrets_manager(arn: str) -> str | None:
    from . import aws  # only needed when a secret lives in Secrets Manager

    value: str | None = aws.client("secretsmanager").get_secret_value(SecretId=arn).get("SecretString")
    return value


def _environment(name: str) -> str | None:
    import os

    return os.environ.get(name) or None


source = SecretSource(_environment, _fetch_from_secrets_manager)


def hmac_secret(name: str) -> str:
    """One of ``HMAC_SECRETS``; a short or placeholder value is refused."""
    value = source.get(name)
    if is_placeholder_secret(value):
        raise ConfigError(f"{name} is too short or a placeholder: use at least 32 random characters.")
    return value


# -- access keys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    pem: str


def signing_key() -> SigningKey:
    """The private key user_api signs access tokens with (and its key id)."""
    return parse_signing_key(source.get(ACCESS_SIGNING_KEY))


def parse_signing_key(raw: str) -> SigningKey:
    try:
        parsed = json.loads(raw)
        return SigningKey(kid=str(parsed["kid"]), pem=str(parsed["key"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{ACCESS_SIGNING_KEY} is not a key made by blog_shared.keys (no kid and key)") from exc


class PublicKeys:
    """The public keys access tokens are checked against, by key id. An unknown key id (a
    rotation since they were read) reads them again, at most every ``REFRESH_GAP`` seconds."""

    def __init__(self) -> None:
        self._tried_at = -REFRESH_GAP

    def find(self, kid: str) -> dict[str, Any] | None:
        found = _keys_by_id(source.get(ACCESS_PUBLIC_KEYS)).get(kid)
        if found is None and time.monotonic() - self._tried_at >= REFRESH_GAP:
            self._tried_at = time.monotonic()
            found = _keys_by_id(source.get(ACCESS_PUBLIC_KEYS, max_age=0)).get(kid)
        return found


def _keys_by_id(raw: str) -> dict[str, dict[str, Any]]:
    try:
        keys = json.loads(raw)["keys"]
        return {str(key["kid"]): key for key in keys if key.get("alg") == ALGORITHM}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{ACCESS_PUBLIC_KEYS} is not a JWK set ({{'keys': [...]}})") from exc


public_keys = PublicKeys()


def new_signing_key() -> SigningKey:
    """A new P-256 key pair, with a random key id."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey(kid=secrets.token_hex(8), pem=pem)


def public_jwk(key: SigningKey) -> dict[str, Any]:
    from jose import jwk

    public: dict[str, Any] = jwk.construct(key.pem, ALGORITHM).public_key().to_dict()
    return {**public, "kid": key.kid, "alg": ALGORITHM, "use": "sig"}


def serialise(key: SigningKey) -> str:
    return json.dumps({"kid": key.kid, "key": key.pem})


def public_set(keys: Iterable[SigningKey]) -> str:
    return json.dumps({"keys": [public_jwk(key) for key in keys]})


def rotate(read: Reader, write: Callable[[str, str], None]) -> SigningKey:
    """Make a new signing key. The public keys become the new one and the one it replaces (any
    older key is dropped: tokens it signed stop working), and are written first, so no app
    meets a token signed with a key it has not been given. With no key yet, makes the first."""
    new = new_signing_key()
    keep = [new]
    if has_signing_key(read):
        keep.append(parse_signing_key(read(ACCESS_SIGNING_KEY) or ""))
    write(ACCESS_PUBLIC_KEYS, public_set(keep))
    write(ACCESS_SIGNING_KEY, serialise(new))
    return new


def has_signing_key(read: Reader) -> bool:
    raw = read(ACCESS_SIGNING_KEY)
    try:
        return bool(raw and json.loads(raw).get("kid"))
    except (ValueError, AttributeError):
        return False


def generate_values() -> dict[str, str]:
    """Every secret, freshly made (for ``make dev`` and the tests)."""
    values: dict[str, str] = {name: secrets.token_urlsafe(48) for name in HMAC_SECRETS}
    rotate(values.get, values.__setitem__)
    return values


def check(names: Iterable[str]) -> None:
    """At start-up: each of ``names`` is configured, and a value given directly is usable
    (values behind an ARN are checked when first read)."""
    for name in names:
        if not source.configured(name):
            raise ConfigError(f"{name} is not set (give its value, or {name}_ARN for a Secrets Manager secret).")
        if not _environment(name):
            continue
        if name in HMAC_SECRETS:
            hmac_secret(name)
        elif name == ACCESS_SIGNING_KEY:
            signing_key()
        else:
            _keys_by_id(source.get(name))


def in_secrets_manager() -> tuple[Reader, Callable[[str, str], None]]:
    """Read and write the access keys' secrets (``<NAME>_ARN``) in Secrets Manager, for the
    function that makes and rotates them."""
    from . import aws

    client = aws.client("secretsmanager")

    def arn(name: str) -> str:
        found = _environment(f"{name}_ARN")
        if not found:
            raise ConfigError(f"{name}_ARN is not set")
        return found

    def read(name: str) -> str | None:
        value: str | None = client.get_secret_value(SecretId=arn(name)).get("SecretString")
        return value

    def write(name: str, value: str) -> None:
        client.put_secret_value(SecretId=arn(name), SecretString=value)

    return read, write
