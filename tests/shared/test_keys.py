"""Keys and secrets: one per purpose, each app given only its own; access tokens signed with
ES256 by user_api's key alone; rotation without logging anyone out."""

from __future__ import annotations

import json
import logging
import secrets
import time
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
            token = jwt.encode(token_claims(purpose), keys.hmac_secrets(other_name)[0], algorithm="HS256")
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


DAY = 24 * 3600.0


def kids(store: keys.DictStore) -> list[str]:
    return [entry["kid"] for entry in json.loads(store.values[keys.ACCESS_PUBLIC_KEYS])["keys"]]


def use(environ: pytest.MonkeyPatch, store: keys.DictStore) -> None:
    """Give the process the store's keys (as Secrets Manager would, read afresh)."""
    environ.setenv(keys.ACCESS_SIGNING_KEY, store.values[keys.ACCESS_SIGNING_KEY])
    environ.setenv(keys.ACCESS_PUBLIC_KEYS, store.values[keys.ACCESS_PUBLIC_KEYS])


def test_a_new_key_is_published_before_it_signs_and_the_old_one_kept_until_its_tokens_expire(environ):
    store = keys.DictStore({name: keys.source.get(name) for name in keys.ALL})
    start = time.time()
    old = keys.signing_key()
    new = keys.rotate(store, longest_token=30 * DAY, now=start)
    use(environ, store)
    assert kids(store) == [new.kid, old.kid]  # every app can check the new key at once...
    assert keys.signing_key(now=start).kid == old.kid  # ...which signs only once all have read it
    assert new.not_before == start + keys.ACTIVATION_DELAY
    assert keys.signing_key(now=new.not_before).kid == new.kid
    retired_until = new.not_before + 30 * DAY + keys.RETENTION_MARGIN
    assert keys.public_keys.find(old.kid, now=retired_until - 1) is not None  # its last tokens still work
    assert keys.public_keys.find(old.kid, now=retired_until) is None


def test_rotations_in_quick_succession_log_nobody_out(environ):
    """A second rotation (a retry, an impatient operator) before the first key signs: the
    never-used key is dropped, the signing one kept; later ones keep every key whose tokens
    may still be out."""
    store = keys.DictStore({name: keys.source.get(name) for name in keys.ALL})
    t0 = time.time()
    original = keys.signing_key()
    unused = keys.rotate(store, longest_token=DAY, now=t0)
    second = keys.rotate(store, longest_token=DAY, now=t0 + 60)
    assert kids(store) == [second.kid, original.kid] and unused.kid not in kids(store)
    third = keys.rotate(store, longest_token=DAY, now=second.not_before + 10)  # second signs by now
    assert kids(store) == [third.kid, second.kid, original.kid]
    use(environ, store)
    later = second.not_before + 20
    assert all(keys.public_keys.find(kid, now=later) is not None for kid in kids(store))
    assert keys.public_keys.find(original.kid, now=second.not_before + DAY + keys.RETENTION_MARGIN) is None
    fourth = keys.rotate(store, longest_token=DAY, now=second.not_before + 2 * DAY)
    assert original.kid not in kids(store) and fourth.kid in kids(store)  # expired keys go


def test_a_rotation_keeps_issued_tokens_valid_and_a_revocation_ends_them(environ):
    store = keys.DictStore({name: keys.source.get(name) for name in keys.ALL})
    before = tokens.issue(1, tokens.ACCESS, 600, ver=1).token
    new = keys.rotate(store, longest_token=DAY, delay=0)
    use(environ, store)
    after = tokens.issue(1, tokens.ACCESS, 600, ver=1).token
    assert jwt.get_unverified_header(after)["kid"] == new.kid != jwt.get_unverified_header(before)["kid"]
    assert tokens.decode(before, tokens.ACCESS).subject == "1"  # nobody is logged out
    assert tokens.decode(after, tokens.ACCESS).subject == "1"
    revoked = keys.rotate(store, longest_token=DAY, revoke=True)  # after a leak
    use(environ, store)
    assert kids(store) == [revoked.kid] and keys.signing_key().kid == revoked.kid
    for token in (before, after):
        with pytest.raises(tokens.TokenError):
            tokens.decode(token, tokens.ACCESS)


def test_a_bad_entry_among_the_public_keys_is_left_out_not_fatal(environ, caplog):
    token = tokens.issue(1, tokens.ACCESS, 600, ver=1).token
    published = json.loads(keys.source.get(keys.ACCESS_PUBLIC_KEYS))["keys"]
    private = keys.public_jwk(keys.new_signing_key()) | {"d": "x", "kid": "with-private-part"}
    bad = ["text", {"kty": "RSA", "kid": "rsa"}, {"kty": "EC", "crv": "P-256", "kid": "no-point"}, private]
    bad.append({**published[0], "x": "AAAA"})  # a second entry of the same kid
    environ.setenv(keys.ACCESS_PUBLIC_KEYS, json.dumps({"keys": [*published, *bad]}))
    with caplog.at_level(logging.ERROR, logger="blog.keys"):
        assert tokens.decode(token, tokens.ACCESS).subject == "1"
    assert len(caplog.records) == len(bad)
    for kid in ("rsa", "no-point", "with-private-part"):
        odd = jwt.encode(
            token_claims(tokens.ACCESS), keys.new_signing_key().pem, algorithm="ES256", headers={"kid": kid}
        )
        with pytest.raises(tokens.TokenError):
            tokens.decode(odd, tokens.ACCESS)
    for header in ({"kid": 7}, {"kid": ["a"]}, {"kid": None}):
        odd = jwt.encode(token_claims(tokens.ACCESS), keys.signing_key().pem, algorithm="ES256", headers=header)
        with pytest.raises(tokens.TokenError):
            tokens.decode(odd, tokens.ACCESS)


def test_a_signing_key_missing_from_the_public_keys_is_refused_at_start(environ):
    environ.setenv(keys.ACCESS_PUBLIC_KEYS, keys.generate_values()[keys.ACCESS_PUBLIC_KEYS])
    with pytest.raises(ConfigError, match="lacks the signing keys"):
        check_at_startup("user_api")


class FakeSecretsManager:
    def __init__(self, values: dict[str, str]) -> None:
        self.values, self.reads, self.down = values, 0, False

    def fetch(self, arn: str) -> str | None:
        self.reads += 1
        if self.down:
            raise ConnectionError("Secrets Manager does not answer")
        return self.values[arn]


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The monotonic clock the caches use, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr(keys.time, "monotonic", lambda: now[0])
    return now


def test_a_cached_value_outlives_a_secrets_manager_outage(clock, caplog):
    remote = FakeSecretsManager({"arn:link": "a" * 40})
    source = keys.SecretSource({"LINK_SECRET_ARN": "arn:link"}.get, remote.fetch)
    assert source.get("LINK_SECRET") == "a" * 40
    clock[0] += keys.MAX_AGE + 1
    remote.down = True
    with caplog.at_level(logging.WARNING, logger="blog.keys"):
        assert source.get("LINK_SECRET") == "a" * 40
    assert "using the value read" in caplog.text
    fresh = keys.SecretSource({"LINK_SECRET_ARN": "arn:link"}.get, remote.fetch)
    with pytest.raises(ConnectionError):
        fresh.get("LINK_SECRET")  # nothing to fall back on


def test_an_unknown_key_id_reads_the_public_keys_again_at_most_every_refresh_gap(environ, monkeypatch, clock):
    values = keys.generate_values()
    remote = FakeSecretsManager({"arn:public": values[keys.ACCESS_PUBLIC_KEYS]})
    source = keys.SecretSource({"ACCESS_PUBLIC_KEYS_ARN": "arn:public"}.get, remote.fetch)
    monkeypatch.setattr(keys, "source", source)
    verifier = keys.PublicKeys()
    assert verifier.find("nobody") is None and remote.reads == 1
    assert verifier.find("nobody") is None and remote.reads == 1  # just read: not again
    clock[0] += keys.REFRESH_GAP + 1
    store = keys.DictStore(values)
    new = keys.rotate(store, longest_token=DAY, delay=0)
    remote.values["arn:public"] = store.values[keys.ACCESS_PUBLIC_KEYS]
    assert verifier.find(new.kid) is not None and remote.reads == 2


def test_an_hmac_secret_being_replaced_accepts_the_previous_value(environ):
    old_link = tokens.issue(1, tokens.UNSUBSCRIBE, 600).token
    old_csrf = tokens.cookie_mac("csrf:seed:session")
    fingerprint = tokens.email_fingerprint("ann@example.com")
    environ.setenv(keys.LINK_SECRET, keys.rotate_hmac_secret(keys.source.get(keys.LINK_SECRET)))
    environ.setenv(keys.COOKIE_SECRET, keys.rotate_hmac_secret(keys.source.get(keys.COOKIE_SECRET)))
    new_link = tokens.issue(1, tokens.UNSUBSCRIBE, 600).token
    assert tokens.decode(old_link, tokens.UNSUBSCRIBE).subject == tokens.decode(new_link, tokens.UNSUBSCRIBE).subject
    assert tokens.cookie_mac_matches("csrf:seed:session", old_csrf)
    assert tokens.cookie_mac("csrf:seed:session") != old_csrf
    assert tokens.fingerprint_matches("ann@example.com", fingerprint)
    environ.setenv(keys.LINK_SECRET, keys.rotate_hmac_secret(keys.source.get(keys.LINK_SECRET)))
    with pytest.raises(tokens.TokenError):
        tokens.decode(old_link, tokens.UNSUBSCRIBE)  # two replacements later
    assert tokens.decode(new_link, tokens.UNSUBSCRIBE).subject == "1"


def test_a_token_signed_with_a_new_hmac_value_is_checked_against_it_read_afresh(monkeypatch, clock):
    """The signer read the new value first: the verifier's check fails with its cached value,
    so it reads the secret again (once it is older than REFRESH_GAP) and accepts."""
    remote = FakeSecretsManager({"arn:link": "o" * 40})
    source = keys.SecretSource({"LINK_SECRET_ARN": "arn:link", "APP_STAGE": "dev"}.get, remote.fetch)
    monkeypatch.setattr(keys, "source", source)
    assert keys.hmac_secrets(keys.LINK_SECRET) == ["o" * 40]
    remote.values["arn:link"] = keys.rotate_hmac_secret("o" * 40)
    new = json.loads(remote.values["arn:link"])["current"]
    token = jwt.encode(token_claims(tokens.UNSUBSCRIBE), new, algorithm="HS256")
    with pytest.raises(tokens.TokenError):
        tokens.decode(token, tokens.UNSUBSCRIBE)  # the cache is fresh: not read again yet
    clock[0] += keys.REFRESH_GAP + 1
    assert tokens.decode(token, tokens.UNSUBSCRIBE).subject == "1"


def test_each_api_has_its_own_client_address_secret(environ):
    """A client-address token for post_api (whose secret post_api holds) is not one for user_api."""
    for_posts = tokens.client_token("post-api", "198.51.100.7")
    assert tokens.decode(for_posts, tokens.CLIENT_FOR["post-api"]).extra["addr"] == "198.51.100.7"
    with pytest.raises(tokens.TokenError):
        tokens.decode(for_posts, tokens.CLIENT_FOR["user-api"])


def test_keys_in_secrets_manager_are_read_again_for_a_key_id_not_seen_yet(environ, aws_endpoint, aws_environment):
    """On AWS the keys live in Secrets Manager: a key that signs at once (a revocation) reaches
    a running verifier at its first token with the new key id."""
    client = boto3.client("secretsmanager", endpoint_url=aws_endpoint, region_name="us-east-1")
    suffix = secrets.token_hex(4)
    arns = {}
    for name in (keys.ACCESS_SIGNING_KEY, keys.ACCESS_PUBLIC_KEYS):
        arns[name] = client.create_secret(Name=f"test-{name}-{suffix}", SecretString=keys.source.get(name))["ARN"]
        environ.delenv(name)
        environ.setenv(f"{name}_ARN", arns[name])
    keys.source.forget()
    before = tokens.issue(1, tokens.ACCESS, 600, ver=1).token
    assert tokens.decode(before, tokens.ACCESS).subject == "1"  # both secrets are cached now

    new = keys.rotate(keys.SecretsManagerStore(arns), longest_token=DAY, delay=0)
    environ.setattr(keys.time, "monotonic", lambda: time.monotonic_ns() / 1e9 + keys.REFRESH_GAP + 1)
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
