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
        url, args = db.connection("postgresql+pg8000://u:p@db.example.com/blog")
        context = args["ssl_context"]
        assert context.check_hostname is verified
        assert context.verify_mode == (ssl.CERT_REQUIRED if verified else ssl.CERT_NONE)
        monkeypatch.setenv("DATABASE_TLS", "off")
        reset_caches()
        assert "ssl_context" not in db.connection(url)[1]
        monkeypatch.setenv("DATABASE_TLS", "sometimes")
        reset_caches()
        with pytest.raises(ConfigError, match="DATABASE_TLS"):
            db.connection(url)
    finally:
        monkeypatch.undo()


def test_sslmode_verify_full_in_the_url_checks_against_the_shipped_rds_authorities(monkeypatch):
    import ssl

    from cryptography import x509

    monkeypatch.setenv("APP_STAGE", "dev")
    monkeypatch.setenv("DATABASE_TLS", "off")
    reset_caches()
    try:
        url, args = db.connection("postgresql+pg8000://u:p%40ss@cluster.example.com:5432/blog?sslmode=verify-full")
        assert url == "postgresql+pg8000://u:p%40ss@cluster.example.com:5432/blog"  # pg8000 takes no sslmode
        context = args["ssl_context"]
        assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
        subjects = {str(ca["subject"]) for ca in context.get_ca_certs()}
        assert any("Amazon RDS" in s for s in subjects) and any("Amazon Root CA" in s for s in subjects)
        # The shipped bundle: RDS's current authorities, none expired.
        bundle = db.RDS_CA_BUNDLE.read_bytes()
        certificates = x509.load_pem_x509_certificates(bundle)
        assert len(certificates) > 50
        assert "ssl_context" not in db.connection("postgresql+pg8000://u@h/blog?sslmode=disable")[1]
        for unsafe in ("prefer", "allow", "verify-ca", "bogus"):
            with pytest.raises(ConfigError, match="sslmode"):
                db.connection(f"postgresql+pg8000://u@h/blog?sslmode={unsafe}")
    finally:
        monkeypatch.undo()
        reset_caches()
        reset_caches()


def test_sql_values_never_reach_the_logs(posts, monkeypatch, caplog):
    """The engine hides statement parameters, and an unexpected database error is logged by
    its code and statement: PostgreSQL's own message, which may quote a value, is left out."""
    import logging

    from sqlalchemy import text as sql

    from tests.helpers import app_module

    store = app_module("post_api", "chalicelib.posts.store")
    secret = "very.private.person@example.com"

    def failing(db, *args, **kwargs):
        db.execute(sql("SELECT CAST(:value AS integer)"), {"value": secret})

    monkeypatch.setattr(store, "list_posts", failing)
    with caplog.at_level(logging.DEBUG):
        response = posts.get("/posts")
    assert response.status_code == 500
    logged = "\n".join(record.getMessage() + str(record.exc_info or "") for record in caplog.records)
    assert "SQLSTATE 22P02" in logged and "SELECT CAST" in logged
    assert secret not in logged and secret not in str(response.json_body)
