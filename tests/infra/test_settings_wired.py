"""Every setting the code reads is either given to each function that needs it by the
template, or documented here as one that keeps its default on AWS (so a new setting cannot
be forgotten in infra/template.yaml)."""

from __future__ import annotations

import re

from devtools import stack
from tests.helpers import REPO

CODE = [
    REPO / "shared" / "blog_shared",
    *(REPO / app / "chalicelib" for app in ("user_api", "post_api", "web_frontend")),
    *(REPO / app / "app.py" for app in ("user_api", "post_api", "web_frontend")),
]
READ = re.compile(r'(?:env|os\.environ)\.get\("([A-Z0-9_]+)"|_(?:int|choice)\("([A-Z0-9_]+)"|env\["([A-Z0-9_]+)"\]')

# Settings that keep their default on AWS, and why.
DEFAULTED = {
    "DATABASE_URL": "on AWS the URL comes from the secret DATABASE_SECRET_ARN names",
    "JWT_SECRET": "on AWS the key comes from the secret JWT_SECRET_ARN names",
    "DB_POOL_SIZE": "1: a Lambda container serves one request at a time",
    "JWT_ISSUER": "serverless-blog",
    "JWT_AUDIENCE": "serverless-blog-api",
    "ACCESS_TOKEN_TTL": "24 hours",
    "REMEMBER_TOKEN_TTL": "30 days",
    "MAX_BODY_BYTES": "64 KiB",
    "API_TIMEOUT_SECONDS": "10 s for web_frontend's calls to the APIs",
    "AWS_ENDPOINT_URL": "never on AWS: only for an emulator",
    "AWS_REGION": "set by Lambda",
    "AWS_DEFAULT_REGION": "set by Lambda",
    "EMAIL_QUEUE_NAME": "read when packaging (Chalice's event source); on AWS the template names the queue",
    "GITHUB_CLIENT_ID": "sign-in with GitHub stays off on AWS until its secret is kept in Secrets Manager",
    "GITHUB_CLIENT_SECRET": "as GITHUB_CLIENT_ID",
    "GITHUB_OAUTH_URL": "GitHub's own",
    "GITHUB_API_URL": "GitHub's own",
    "GOOGLE_CLIENT_ID": "sign-in with Google stays off on AWS until its secret is kept in Secrets Manager",
    "GOOGLE_CLIENT_SECRET": "as GOOGLE_CLIENT_ID",
    "GOOGLE_AUTH_URL": "Google's own",
    "GOOGLE_TOKEN_URL": "Google's own",
    "GOOGLE_JWKS_URL": "Google's own",
    "GOOGLE_ISSUER": "Google's own",
}
DATABASE = {"DATABASE_SECRET_ARN", "DATABASE_HOST", "DATABASE_TLS"}
# What each function must be given, by the app its code comes from.
NEEDED = {
    "user_api": {
        "APP_STAGE",
        *DATABASE,
        "JWT_SECRET_ARN",
        "EMAIL_QUEUE_URL",
        "SES_SENDER",
        "PUBLIC_URL",
        "AVATAR_BASE_URL",
    },
    "post_api": {"APP_STAGE", *DATABASE, "JWT_SECRET_ARN", "EMAIL_QUEUE_URL", "AVATAR_BASE_URL"},
    "web_frontend": {
        "APP_STAGE",
        "JWT_SECRET_ARN",
        "USER_API_URL",
        "POST_API_URL",
        "PUBLIC_URL",
        "AVATAR_BUCKET",
        "AVATAR_BASE_URL",
    },
    "migrate": {"APP_STAGE", *DATABASE},
}


def settings_read_by_the_code() -> set[str]:
    files = [path for root in CODE for path in ([root] if root.is_file() else root.rglob("*.py"))]
    return {name for path in files for match in READ.finditer(path.read_text()) for name in match.groups() if name}


def test_the_scan_finds_the_settings():
    found = settings_read_by_the_code()
    assert {"DATABASE_SECRET_ARN", "JWT_SECRET_ARN", "PUBLIC_URL", "SES_SENDER", "DATABASE_TLS"} <= found
    assert len(found) > 25


def test_every_setting_is_wired_or_documented():
    undecided = settings_read_by_the_code() - set().union(*NEEDED.values()) - DEFAULTED.keys()
    assert undecided == set(), "give these to the functions in infra/template.yaml, or document their default here"


def test_each_function_gets_exactly_what_its_app_needs():
    template = stack.load_source()
    read = settings_read_by_the_code()
    functions = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert len(functions) == 6
    for name, function in functions.items():
        given = set(function["Properties"]["Environment"]["Variables"])
        assert given == NEEDED[function["Metadata"]["App"]], name
        assert given <= read, f"{name} is given settings no code reads: {given - read}"
