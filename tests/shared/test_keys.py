"""Keys and secrets: one per purpose, each app given only its own; access tokens signed with
ES256 by user_api's key alone; rotation without logging anyone out."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import boto3
import pytest
from jose import jwt

from blog_shared import keys, tokens
from blog_shared.config import ConfigError, check_at_startup
from devtools.apps import role_environment
from tests.helpers import forged_access_tokens, fresh_keys, token_claims


@pytest.fixture
def environ(monkeypatch) -> Iterator[pytest.MonkeyPatch]:
    with fresh_keys(monkeypatch, "prod") as environ:
        yield environ


@pytest.mark.parametrize("role", sorted(keys.NEEDED_BY))
def test_each_function_refuses_to_start_without_each_of_its_keys(environ, role):
    check_at_startup(role)
    for name in keys.NEEDED_BY[role]:
        value = keys.source.get(name)
        environ.delenv(name)
        with pytest.raises(ConfigError, match=name):
            check_at_startup(role)
        environ.setenv(name, value)


@pytest.mark.parametrize("secret", ["", "secret", "changeme", "short-but-not-a-placeholder"])
def test_a_placeholder_or_short_secret_is_refused(environ, secret):
    environ.setenv(keys.COOKIE_SECRET, secret)
    with pytest.raises(ConfigError, match=keys.COOKIE_SECRET):
        check_at_startup("web_frontend")


def test_a_signing_key_that_is_not_ours_is_refused(environ):
    environ.setenv(keys.ACCESS_SIGNING_KEY, "-----BEGIN PRIVATE KEY-----")
    with pytest.raises(ConfigError, match=keys.ACCESS_SIGNING_KEY):
        check_at_startup("user_api")


def test_post_api_and_the_site_are_given_no_private_key_and_no_link_secret():
    everything = keys.generate_values()
    for role in ("post_api", "web_frontend"):
        given = role_environment(role, {**everything, "APP_STAGE": "dev"})
        assert keys.ACCESS_SIGNING_KEY not in given and keys.LINK_SECRET not in given
        assert "BEGIN PRIVATE KEY" not in json.dumps(given)
        assert given["APP_STAGE"] == "dev"
    assert keys.SERVICE_SECRET not in role_environment("post_api", everything)
    assert keys.COOKIE_SECRET not in role_environment("user_api", everything)


def test_access_tokens_are_es256_with_the_key_id(environ):
    issued = tokens.issue(7, tokens.ACCESS, 60, ver=1)
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "ES256" and header["kid"] == keys.signing_key().kid
    assert tokens.decode(issued.token, tokens.ACCESS).subject == "7"


def test_a_token_signed_with_anything_post_api_holds_is_refused(environ):
    """post_api holds the public keys and the client-address secret: nothing it can sign with
    passes for an access token (the algorithm is pinned to ES256 and the key to its kid)."""
    post_api = {name: keys.source.get(name) for name in keys.NEEDED_BY["post_api"]}
    forged = forged_access_tokens(post_api)
    for token in forged:
        with pytest.raises(tokens.TokenError):
            tokens.decode(token, tokens.ACCESS)


def test_each_purpose_is_signed_with_its_own_secret(environ):
    """A token made with one purpose's secret does not pass for another purpose's, even with the
    right claims: the site's cookie secret cannot make reset links, nor a service token."""
    for purpose, secret_name in tokens.SECRET_OF.items():
        for other_name in keys.HMAC_SECRETS:
            token = jwt.encode(token_claims(purpose), keys.hmac_secret(other_name), algorithm="HS256")
            if other_name == secret_name:
                assert tokens.decode(token, purpose).subject == "1"
            else:
                with pytest.raises(tokens.TokenError):
                    tokens.decode(token, purpose)


def test_tokens_are_bound_to_their_purpose(environ):
    issued = tokens.issue(1, tokens.PASSWORD_RESET, 60)
    with pytest.raises(tokens.TokenError):
        tokens.decode(issued.token, tokens.EMAIL_CONFIRM)  # same secret, other purpose
    assert tokens.decode(issued.token, tokens.PASSWORD_RESET).subject == "1"


def test_a_rotation_keeps_tokens_valid_until_the_next_one(environ):
    values = {name: keys.source.get(name) for name in keys.ALL}
    before = tokens.issue(1, tokens.ACCESS, 600, ver=1).token

    def rotate() -> keys.SigningKey:
        new = keys.rotate(values.get, values.__setitem__)
        environ.setenv(keys.ACCESS_SIGNING_KEY, values[keys.ACCESS_SIGNING_KEY])
        environ.setenv(keys.ACCESS_PUBLIC_KEYS, values[keys.ACCESS_PUBLIC_KEYS])
        return new

    first = rotate()
    after = tokens.issue(1, tokens.ACCESS, 600, ver=1).token
    assert jwt.get_unverified_header(after)["kid"] == first.kid != jwt.get_unverified_header(before)["kid"]
    assert tokens.decode(before, tokens.ACCESS).subject == "1"  # nobody is logged out
    assert tokens.decode(after, tokens.ACCESS).subject == "1"
    rotate()
    with pytest.raises(tokens.TokenError):
        tokens.decode(before, tokens.ACCESS)  # two rotations later its key is gone
    assert tokens.decode(after, tokens.ACCESS).subject == "1"


def test_keys_in_secrets_manager_are_read_again_for_a_key_id_not_seen_yet(environ, aws_endpoint, aws_environment):
    """On AWS the keys live in Secrets Manager: a rotation there reaches a running verifier at
    its first token with the new key id (it reads the public keys again)."""
    client = boto3.client("secretsmanager", endpoint_url=aws_endpoint, region_name="us-east-1")
    suffix = secrets.token_hex(4)
    for name in (keys.ACCESS_SIGNING_KEY, keys.ACCESS_PUBLIC_KEYS):
        arn = client.create_secret(Name=f"test-{name}-{suffix}", SecretString=keys.source.get(name))["ARN"]
        environ.delenv(name)
        environ.setenv(f"{name}_ARN", arn)
    keys.source.forget()
    keys.public_keys._tried_at = -keys.REFRESH_GAP
    before = tokens.issue(1, tokens.ACCESS, 600, ver=1).token
    assert tokens.decode(before, tokens.ACCESS).subject == "1"  # both secrets are cached now

    new = keys.rotate(*keys.in_secrets_manager())
    fresh_signer = jwt.encode(token_claims(tokens.ACCESS), new.pem, algorithm="ES256", headers={"kid": new.kid})
    assert tokens.decode(fresh_signer, tokens.ACCESS).subject == "1"  # read again on the unknown kid
    assert tokens.decode(before, tokens.ACCESS).subject == "1"


def test_a_placeholder_in_secrets_manager_is_refused(environ, aws_endpoint, aws_environment):
    client = boto3.client("secretsmanager", endpoint_url=aws_endpoint, region_name="us-east-1")
    arn = client.create_secret(Name=f"test-link-{secrets.token_hex(4)}", SecretString="secret")["ARN"]
    environ.delenv(keys.LINK_SECRET)
    environ.setenv(f"{keys.LINK_SECRET}_ARN", arn)
    check_at_startup("send_email")  # configured: the value is read when first used
    with pytest.raises(ConfigError, match=keys.LINK_SECRET):
        tokens.issue(1, tokens.UNSUBSCRIBE, 60)
