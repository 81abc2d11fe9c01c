"""Where the apps' database URL comes from: DATABASE_URL, or a Secrets Manager secret."""

from __future__ import annotations

import json
import secrets

import boto3
import pytest
from sqlalchemy import make_url, text

from blog_shared import db
from blog_shared.config import ConfigError
from tests.helpers import reset_caches


def test_a_secret_in_the_rds_shape_becomes_a_pg8000_url():
    password = "p@ss/w:rd %?"
    url = db.url_from_secret(
        {
            "engine": "postgres",
            "username": "blog",
            "password": password,
            "host": "db.example",
            "port": 5433,
            "dbname": "blog",
        }
    )
    parsed = make_url(url)
    assert (parsed.drivername, parsed.username, parsed.password) == ("postgresql+pg8000", "blog", password)
    assert (parsed.host, parsed.port, parsed.database) == ("db.example", 5433, "blog")


def test_the_host_can_be_replaced_and_a_url_secret_gets_our_driver():
    rds = {"username": "blog", "password": "x", "host": "cluster.example", "dbname": "blog"}
    assert make_url(db.url_from_secret(rds, "proxy.example")).host == "proxy.example"
    assert make_url(db.url_from_secret(rds)).port == 5432
    plain = make_url(db.url_from_secret({"url": "postgresql://u:p@h:6543/d"}))
    assert (plain.drivername, plain.host, plain.port, plain.database) == ("postgresql+pg8000", "h", 6543, "d")


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({"username": "blog", "host": "h"}, "password"),
        ({"url": "mysql://u:p@h/d"}, "mysql"),
    ],
)
def test_a_secret_that_does_not_describe_postgresql_is_refused(secret, message):
    with pytest.raises(ConfigError, match=message):
        db.url_from_secret(secret)


@pytest.mark.parametrize("shape", ["rds", "url"])
def test_the_apps_connect_with_the_url_from_secrets_manager(shape, database_url, aws_environment, monkeypatch):
    url = make_url(database_url)
    value = (
        {"url": database_url}
        if shape == "url"
        else {"username": url.username, "password": "", "host": url.host, "port": url.port, "dbname": url.database}
    )
    if shape == "rds":
        value["password"] = "trust-auth-ignores-it"  # the embedded server trusts 127.0.0.1
    client = boto3.client("secretsmanager", endpoint_url=aws_environment["AWS_ENDPOINT_URL"], region_name="us-east-1")
    arn = client.create_secret(Name=f"blog-db-{secrets.token_hex(4)}", SecretString=json.dumps(value))["ARN"]
    monkeypatch.setenv("DATABASE_URL", "postgresql+pg8000://nobody@127.0.0.1:1/nothing")  # not used
    monkeypatch.setenv("DATABASE_SECRET_ARN", arn)
    monkeypatch.setenv("APP_STAGE", "dev")  # no signing key needed to read the database URL
    reset_caches()
    try:
        with db.transaction() as session:
            assert session.execute(text("SELECT current_database()")).scalar() == url.database
    finally:
        monkeypatch.undo()
        reset_caches()


@pytest.mark.parametrize(
    ("mode", "verified"),
    [("require", False), ("verify", True)],
)
def test_database_tls_encrypts_and_verifies_as_asked(mode, verified, monkeypatch):
    import ssl

    monkeypatch.setenv("DATABASE_TLS", mode)
    monkeypatch.setenv("APP_STAGE", "dev")
    reset_caches()
    try:
        context = db.connect_args()["ssl_context"]
        assert context.check_hostname is verified
        assert context.verify_mode == (ssl.CERT_REQUIRED if verified else ssl.CERT_NONE)
        monkeypatch.setenv("DATABASE_TLS", "off")
        reset_caches()
        assert "ssl_context" not in db.connect_args()
        monkeypatch.setenv("DATABASE_TLS", "sometimes")
        reset_caches()
        with pytest.raises(ConfigError, match="DATABASE_TLS"):
            db.connect_args()
    finally:
        monkeypatch.undo()
        reset_caches()
