"""Settings: placeholder keys are refused outside dev; the key can live in Secrets Manager."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import boto3
import pytest

from blog_shared import tokens
from blog_shared.config import ConfigError, check_at_startup, get_settings, load_settings, require_signing_key


@pytest.fixture
def environ(monkeypatch) -> Iterator[pytest.MonkeyPatch]:
    """A dev-stage environment with a real key to start from (what `app_environment` gives the
    apps, without its servers: these tests start none unless they ask for the emulator)."""
    monkeypatch.setenv("APP_STAGE", "dev")
    monkeypatch.setenv("JWT_SECRET", secrets.token_urlsafe(48))
    get_settings.cache_clear()
    tokens.signing_key.cache_clear()
    yield monkeypatch
    # monkeypatch restores os.environ after this; the caches must not keep what the test set.
    get_settings.cache_clear()
    tokens.signing_key.cache_clear()


@pytest.mark.parametrize("secret", [None, "", "secret", "changeme", "short-but-not-a-placeholder"])
def test_outside_dev_a_missing_or_placeholder_key_is_refused(environ, secret):
    environ.setenv("APP_STAGE", "prod")
    environ.delenv("JWT_SECRET_ARN", raising=False)
    if secret is None:
        environ.delenv("JWT_SECRET")
    else:
        environ.setenv("JWT_SECRET", secret)
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        require_signing_key(load_settings())


def test_outside_dev_a_real_key_or_an_arn_is_accepted(environ):
    environ.setenv("APP_STAGE", "prod")
    environ.setenv("JWT_SECRET", secrets.token_urlsafe(40))
    require_signing_key(load_settings())
    assert load_settings().stage == "prod"
    environ.delenv("JWT_SECRET")
    environ.setenv("JWT_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:000000000000:secret:blog-jwt")
    require_signing_key(load_settings())
    assert load_settings().jwt_secret_arn.endswith("blog-jwt")


def test_an_app_refuses_to_start_without_a_real_key(environ):
    environ.setenv("APP_STAGE", "prod")
    environ.setenv("JWT_SECRET", "changeme")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        check_at_startup()


def test_a_bad_number_is_a_config_error(environ):
    environ.setenv("DB_POOL_SIZE", "many")
    with pytest.raises(ConfigError, match="DB_POOL_SIZE"):
        load_settings()


def test_the_signing_key_comes_from_secrets_manager_when_an_arn_is_set(environ, aws_endpoint, aws_environment):
    client = boto3.client("secretsmanager", endpoint_url=aws_endpoint, region_name="us-east-1")
    key = secrets.token_urlsafe(48)
    arn = client.create_secret(Name=f"blog-jwt-{secrets.token_hex(4)}", SecretString=key)["ARN"]
    environ.setenv("JWT_SECRET_ARN", arn)
    environ.setenv("JWT_SECRET", "")
    environ.setenv("APP_STAGE", "prod")
    get_settings.cache_clear()
    tokens.signing_key.cache_clear()
    assert tokens.signing_key() == key
    issued = tokens.issue(7, tokens.ACCESS, 60)
    assert tokens.decode(issued.token, tokens.ACCESS).subject == "7"
    assert os.environ["JWT_SECRET_ARN"] == arn


def test_a_placeholder_in_secrets_manager_is_refused(environ, aws_endpoint, aws_environment):
    client = boto3.client("secretsmanager", endpoint_url=aws_endpoint, region_name="us-east-1")
    arn = client.create_secret(Name=f"blog-jwt-{secrets.token_hex(4)}", SecretString="secret")["ARN"]
    environ.setenv("JWT_SECRET_ARN", arn)
    get_settings.cache_clear()
    tokens.signing_key.cache_clear()
    with pytest.raises(ConfigError):
        tokens.signing_key()


def test_tokens_are_bound_to_their_purpose(environ):
    issued = tokens.issue(1, "password_reset", 60)
    with pytest.raises(tokens.TokenError):
        tokens.decode(issued.token, tokens.ACCESS)
    assert tokens.decode(issued.token, "password_reset").subject == "1"


@pytest.mark.parametrize(
    "url",
    ["http://blog.example.com", "https://localhost", "https://127.0.0.1:8000", "https://[::1]", "https://a.localhost"],
)
def test_outside_dev_an_address_on_this_machine_or_in_plain_http_is_refused(environ, url):
    environ.setenv("APP_STAGE", "prod")
    environ.setenv("PUBLIC_URL", url)
    with pytest.raises(ConfigError, match="PUBLIC_URL must be an https:// address"):
        check_at_startup(addresses=("PUBLIC_URL",))
    environ.setenv("PUBLIC_URL", "https://blog.example.com")
    environ.setenv("USER_API_URL", url)
    get_settings.cache_clear()
    check_at_startup(addresses=("PUBLIC_URL",))  # each app checks the addresses it uses
    with pytest.raises(ConfigError, match="USER_API_URL"):
        check_at_startup(addresses=("PUBLIC_URL", "USER_API_URL"))
    environ.setenv("APP_STAGE", "dev")
    get_settings.cache_clear()
    check_at_startup(addresses=("PUBLIC_URL", "USER_API_URL"))  # local development is plain http
