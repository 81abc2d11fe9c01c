"""Every setting the code reads is either given to each function that needs it by the
template, or documented here as one that keeps its default on AWS (so a new setting cannot
be forgotten in infra/template.yaml)."""

from __future__ import annotations

import json
import re

from blog_shared import keys
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
    "ACCESS_SIGNING_KEY": "on AWS its value comes from the secret ACCESS_SIGNING_KEY_ARN names",
    "ACCESS_PUBLIC_KEYS": "on AWS its value comes from the secret ACCESS_PUBLIC_KEYS_ARN names",
    "LINK_SECRET": "on AWS its value comes from the secret LINK_SECRET_ARN names",
    "SERVICE_SECRET": "on AWS its value comes from the secret SERVICE_SECRET_ARN names",
    "USER_API_CLIENT_SECRET": "on AWS its value comes from the secret USER_API_CLIENT_SECRET_ARN names",
    "POST_API_CLIENT_SECRET": "on AWS its value comes from the secret POST_API_CLIENT_SECRET_ARN names",
    "COOKIE_SECRET": "on AWS its value comes from the secret COOKIE_SECRET_ARN names",
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


def secret_arns(role: str) -> set[str]:
    return {f"{name}_ARN" for name in keys.NEEDED_BY[role]}


# What each function must be given: its keys and secrets by ARN, as blog_shared.keys says its
# code uses them, and its settings.
NEEDED = {
    "UserApiFunction": {
        "APP_STAGE",
        *DATABASE,
        *secret_arns("user_api"),
        "EMAIL_QUEUE_URL",
        "SES_SENDER",
        "PUBLIC_URL",
        "AVATAR_BASE_URL",
    },
    "SendEmailFunction": {"APP_STAGE", *DATABASE, *secret_arns("send_email"), "SES_SENDER", "PUBLIC_URL"},
    "RepublishStalledMailFunction": {"APP_STAGE", *DATABASE, *secret_arns("republish_mail"), "EMAIL_QUEUE_URL"},
    "PostApiFunction": {
        "APP_STAGE",
        *DATABASE,
        *secret_arns("post_api"),
        "EMAIL_QUEUE_URL",
        "PUBLIC_URL",
        "AVATAR_BASE_URL",
    },
    "WebFunction": {
        "APP_STAGE",
        *secret_arns("web_frontend"),
        "USER_API_URL",
        "POST_API_URL",
        "PUBLIC_URL",
        "AVATAR_BUCKET",
        "AVATAR_BASE_URL",
    },
    "AccessKeysFunction": {"ACCESS_SIGNING_KEY_ARN", "ACCESS_PUBLIC_KEYS_ARN"},
    "MigrateFunction": {"APP_STAGE", *DATABASE},
}
# The secrets each function's role may read, by the resource that holds them.
SECRET_RESOURCES = {
    keys.ACCESS_SIGNING_KEY: "AccessSigningKey",
    keys.ACCESS_PUBLIC_KEYS: "AccessPublicKeys",
    keys.LINK_SECRET: "LinkSecret",
    keys.SERVICE_SECRET: "ServiceSecret",
    keys.USER_API_CLIENT_SECRET: "UserApiClientSecret",
    keys.POST_API_CLIENT_SECRET: "PostApiClientSecret",
    keys.COOKIE_SECRET: "CookieSecret",
}


def settings_read_by_the_code() -> set[str]:
    files = [path for root in CODE for path in ([root] if root.is_file() else root.rglob("*.py"))]
    found = {name for path in files for match in READ.finditer(path.read_text()) for name in match.groups() if name}
    # blog_shared.keys reads each key and secret by name: its value, or <NAME>_ARN.
    return found | {setting for name in keys.ALL for setting in (name, f"{name}_ARN")}


def test_the_scan_finds_the_settings():
    found = settings_read_by_the_code()
    assert {"DATABASE_SECRET_ARN", "LINK_SECRET_ARN", "PUBLIC_URL", "SES_SENDER", "DATABASE_TLS"} <= found
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
    assert set(functions) == set(NEEDED)
    for name, function in functions.items():
        given = set(function["Properties"]["Environment"]["Variables"])
        assert given == NEEDED[name], name
        assert given <= read, f"{name} is given settings no code reads: {given - read}"


def test_each_role_may_read_only_the_secrets_its_function_is_given():
    """Every statement about Secrets Manager names its secrets one by one (no wildcard action
    or resource); the secrets a role may read are exactly those its function is given; only
    the key function may write, and only the access keys."""
    resources = stack.load_source()["Resources"]
    for name, function in resources.items():
        if function["Type"] != "AWS::Serverless::Function":
            continue
        given = {
            resource
            for setting, resource in SECRET_RESOURCES.items()
            if f"{setting}_ARN" in function["Properties"]["Environment"]["Variables"]
        }
        role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        statements = [
            statement
            for policy in role["Properties"]["Policies"]
            if "PolicyDocument" in policy
            for statement in policy["PolicyDocument"]["Statement"]
            if any(action.startswith("secretsmanager:") for action in _as_list(statement["Action"]))
        ]
        allowed = {"secretsmanager:GetSecretValue"}
        if name == "AccessKeysFunction":
            allowed.add("secretsmanager:PutSecretValue")
        readable = set()
        for statement in statements:
            assert set(_as_list(statement["Action"])) <= allowed, name
            for reference in _as_list(statement["Resource"]):
                assert isinstance(reference, dict), f"{name}: a secret named by a string ({reference!r})"
                if reference.get("Ref") in SECRET_RESOURCES.values():
                    readable.add(reference["Ref"])
                else:  # the database's secret, and nothing else
                    assert "DatabaseSecret" in json.dumps(reference), f"{name}: {reference}"
        assert readable == given, name
    # Only user_api's function signs access tokens; post_api and the site cannot even read the key.
    assert "ACCESS_SIGNING_KEY_ARN" not in NEEDED["PostApiFunction"] | NEEDED["WebFunction"]


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]
