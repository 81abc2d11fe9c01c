"""The artifact is what we test: `chalice package` output, unzipped into an empty folder,
imported with only that folder (and the standard library) on sys.path, serving API
Gateway proxy events against the test database."""

from __future__ import annotations

import importlib.util
import json
import secrets
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name as canonical

from blog_shared import keys
from devtools import stack
from devtools.package import REPO, package
from tests.helpers import applies, lint, requirements, sam_transform, secrets_for

# Every test here builds (once per module) and runs a deployment artifact: seconds to minutes.
pytestmark = [pytest.mark.packaging, pytest.mark.slow]

# Runs inside a bare interpreter (-I -S: no site-packages, no PYTHONPATH).
SERVE_EVENTS = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import app as handler_module
results = []
for event in json.loads(sys.stdin.read()):
    results.append(handler_module.app(event, None))
print(json.dumps({
    "results": results,
    "outside": [m.__file__ for m in list(sys.modules.values())
                if getattr(m, "__file__", None) and "site-packages" in m.__file__],
}))
"""


def proxy_event(method: str, resource: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
    """An API Gateway (REST, proxy integration) event as Lambda receives it."""
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "example.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/api{path}",
            "stage": "api",
            "requestId": secrets.token_hex(8),
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def serve_from_artifact(zip_path: Path, folder: Path, events: list[dict], env: dict[str, str]) -> dict:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder)
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", SERVE_EVENTS, str(folder)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def user_api_zip(tmp_path_factory) -> Path:
    return package("user_api", tmp_path_factory.mktemp("build") / "user_api") / "deployment.zip"


def test_user_api_artifact_serves_register_and_lookup(user_api_zip, tmp_path, app_environment):
    env = {
        "DATABASE_URL": app_environment["DATABASE_URL"],
        **secrets_for("user_api", keys.generate_values()),
        "APP_STAGE": "prod",
        "PUBLIC_URL": "https://blog.example.com",
        "PATH": "/usr/bin:/bin",
    }
    events = [
        proxy_event("POST", "/users", "/users", {"username": "zoe", "email": "zoe@example.com", "password": "x" * 12}),
        proxy_event("GET", "/users", "/users", query={"username": "zoe"}),
        proxy_event("GET", "/users", "/users", query={"username": "nobody"}),
    ]
    served = serve_from_artifact(user_api_zip, tmp_path / "extracted", events, env)
    assert served["outside"] == [], "the artifact imported code from outside itself"
    created, found, missing = served["results"]
    assert created["statusCode"] == 201, created
    assert json.loads(created["body"])["data"]["username"] == "zoe"
    assert found["statusCode"] == 200
    assert json.loads(found["body"])["data"]["username"] == "zoe"
    assert "email" not in json.loads(found["body"])["data"]
    assert missing["statusCode"] == 404
    assert json.loads(missing["body"]) == {"status": "fail", "message": "No user with username nobody"}


def test_user_api_artifact_refuses_to_start_without_a_real_key(user_api_zip, tmp_path, app_environment):
    env = {
        "DATABASE_URL": app_environment["DATABASE_URL"],
        **secrets_for("user_api", keys.generate_values()),
        keys.LINK_SECRET: "secret",
        "APP_STAGE": "prod",
    }
    with zipfile.ZipFile(user_api_zip) as archive:
        archive.extractall(tmp_path / "x")
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import app",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LINK_SECRET is too short or a placeholder" in result.stderr


# The mail consumer's Lambda handler, as the SQS event source mapping calls it.
SERVE_SQS = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from chalicelib.mail.handlers import send_email
print(json.dumps(send_email(json.loads(sys.stdin.read()), None)))
"""


def test_user_api_artifact_consumes_mail_messages_with_partial_batch_responses(
    user_api_zip, built_template, tmp_path, app_environment
):
    """A message for mail already sent (or unknown) is done; a malformed one alone is retried.
    The template turns partial batch responses on for the queue's event source."""
    resources = built_template["Resources"]
    function = resources["SendEmailFunction"]["Properties"]
    assert function["Handler"] == "chalicelib.mail.handlers.send_email"
    assert function["CodeUri"] == "user_api/deployment.zip"
    [source] = function["Events"].values()
    assert source["Type"] == "SQS" and source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["Properties"]["Queue"] == {"Fn::GetAtt": ["EmailQueue", "Arn"]}
    schedule = resources["RepublishStalledMailFunction"]["Properties"]["Events"]
    assert [e["Properties"]["Schedule"] for e in schedule.values()] == ["rate(1 minute)"]
    # The function's role may consume from the mail queue and send mail.
    [policy] = [p for p in resources["SendEmailRole"]["Properties"]["Policies"] if p.get("PolicyName") == "send-email"]
    allowed = {action: s["Resource"] for s in policy["PolicyDocument"]["Statement"] for action in _actions(s)}
    assert allowed["sqs:ReceiveMessage"] == {"Fn::GetAtt": ["EmailQueue", "Arn"]}
    assert "ses:SendRawEmail" in allowed
    with zipfile.ZipFile(user_api_zip) as archive:
        names = set(archive.namelist())
    assert {"chalicelib/mail/templates/like.html", "chalicelib/mail/templates/password_reset.txt"} <= names

    with zipfile.ZipFile(user_api_zip) as archive:
        archive.extractall(tmp_path / "x")
    records = [
        {"messageId": "done", "body": json.dumps({"key": "welcome:999999", "kind": "welcome"})},
        {"messageId": "broken", "body": "not json"},
    ]
    event = {"Records": [{**r, "receiptHandle": r["messageId"], "eventSource": "aws:sqs"} for r in records]}
    env = {"DATABASE_URL": app_environment["DATABASE_URL"], **secrets_for("send_email", app_environment)}
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", SERVE_SQS, str(tmp_path / "x")],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env={**env, "APP_STAGE": "prod", "PUBLIC_URL": "https://blog.example.com", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"batchItemFailures": [{"itemIdentifier": "broken"}]}


def _actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


@pytest.fixture(scope="module")
def built_template(user_api_zip, post_api_zip, web_frontend_zip) -> dict:
    """build/template.yaml as `make package` writes it, from these artifacts' Chalice output."""
    outputs = {
        z.parent.name: json.loads((z.parent / "sam.json").read_text())
        for z in (user_api_zip, post_api_zip, web_frontend_zip)
    }
    return stack.build_template(outputs)


@pytest.fixture(scope="module")
def post_api_zip(tmp_path_factory) -> Path:
    return package("post_api", tmp_path_factory.mktemp("build") / "post_api") / "deployment.zip"


def test_post_api_artifact_serves_posts(post_api_zip, tmp_path, app_environment, users):
    ann, token = users.register_and_login("ann")
    env = {
        "DATABASE_URL": app_environment["DATABASE_URL"],
        **secrets_for("post_api", app_environment),  # the public key of user_api's token
        "APP_STAGE": "prod",
        "PUBLIC_URL": "https://blog.example.com",
        "PATH": "/usr/bin:/bin",
    }
    write = proxy_event("POST", "/posts", "/posts", {"title": "From Lambda", "content": "Hello"})
    write["headers"]["Authorization"] = f"Bearer {token}"
    anonymous = proxy_event("POST", "/posts", "/posts", {"title": "No token", "content": "Hello"})
    listing = proxy_event("GET", "/posts", "/posts", query={"author": "ann", "per_page": "5"})
    detail = proxy_event("GET", "/posts/{post_id}", "/posts/1")
    detail["pathParameters"] = {"post_id": "1"}
    served = serve_from_artifact(post_api_zip, tmp_path / "extracted", [write, anonymous, listing, detail], env)
    assert served["outside"] == []
    created, refused, listed, shown = served["results"]
    assert created["statusCode"] == 201, created
    assert refused["statusCode"] == 401
    assert listed["statusCode"] == 200
    body = json.loads(listed["body"])
    assert [p["title"] for p in body["data"]["posts"]] == ["From Lambda"]
    assert body["pagination_meta"]["total"] == 1
    assert json.loads(shown["body"])["data"]["author"]["id"] == ann["id"]


@pytest.fixture(scope="module")
def web_frontend_zip(tmp_path_factory) -> Path:
    return package("web_frontend", tmp_path_factory.mktemp("build") / "web_frontend") / "deployment.zip"


@pytest.mark.http
def test_web_frontend_artifact_renders_pages(web_frontend_zip, tmp_path, app_environment, api_servers, users):
    users.register("ann")
    env = {
        **secrets_for("web_frontend", app_environment),
        # dev: the APIs it calls here are this machine's plain-http servers, which any other
        # stage refuses at start-up (the stack test serves it with the deployment's https ones)
        "APP_STAGE": "dev",
        "USER_API_URL": app_environment["USER_API_URL"],
        "POST_API_URL": app_environment["POST_API_URL"],
        "PATH": "/usr/bin:/bin",
    }
    home = proxy_event("GET", "/", "/")
    home["headers"] = {"Accept": "text/html"}
    about = proxy_event("GET", "/about", "/about")
    about["headers"] = {"Accept": "text/html"}
    user_page = proxy_event("GET", "/users/{username}/posts", "/users/ann/posts")
    user_page["headers"] = {"Accept": "text/html"}
    user_page["pathParameters"] = {"username": "ann"}
    css = proxy_event("GET", "/static/{name}", "/static/style.css")
    css["headers"] = {"Accept": "text/css"}
    css["pathParameters"] = {"name": "style.css"}
    served = serve_from_artifact(web_frontend_zip, tmp_path / "extracted", [home, about, user_page, css], env)
    assert served["outside"] == []
    home_page, about_page, posts_page, stylesheet = served["results"]
    assert home_page["statusCode"] == 200, home_page["body"][:500]
    assert "Latest posts" in home_page["body"]
    assert "About this blog" in about_page["body"]
    assert posts_page["statusCode"] == 200 and "Posts by ann (0)" in posts_page["body"]
    assert stylesheet["statusCode"] == 200 and ".pagination" in stylesheet["body"]


@pytest.mark.parametrize("app", ["user_api", "post_api", "web_frontend"])
def test_an_artifact_carries_exactly_its_locked_requirements(app, request):
    """What `chalice package` put in the zip is the app's requirements.txt (from uv.lock), at
    those versions, and nothing pip would have resolved besides (python-jose's pure-Python
    backends stay out)."""

    archive_path = request.getfixturevalue(f"{app}_zip")
    with zipfile.ZipFile(archive_path) as archive:
        infos = {name.split("/")[0] for name in archive.namelist() if ".dist-info/" in name}
    packaged = dict(info.removesuffix(".dist-info").rsplit("-", 1) for info in infos)  # e.g. python_jose-3.5.0
    wanted = {
        r.name: str(r.specifier).removeprefix("==") for r in requirements(REPO / app / "requirements.txt") if applies(r)
    }
    assert {canonical(name): version for name, version in packaged.items()} == {
        canonical(name): version for name, version in wanted.items()
    }


def test_the_built_template_lints_clean_and_expands(built_template, tmp_path, monkeypatch):
    """cfn-lint finds nothing in build/template.yaml (every route of every app in it) and the
    SAM transform expands it offline."""
    # The functions run on the Python the artifacts' wheels and bytecode were built for.
    assert built_template["Globals"]["Function"]["Runtime"] == f"python{sys.version_info[0]}.{sys.version_info[1]}"
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(built_template))
    result = lint(str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    resources = sam_transform(built_template)["Resources"]
    body = resources["PostApi"]["Properties"]["Body"]
    assert {"/posts", "/posts/{post_id}", "/posts/{post_id}/likes"} <= set(body["paths"])
    assert len(resources["WebApi"]["Properties"]["Body"]["paths"]) > 10


@pytest.mark.parametrize("app", ["user_api", "post_api", "web_frontend"])
def test_an_artifact_carries_bytecode_for_lambdas_python(app, request):
    """Every module has its bytecode for Python 3.11 beside it, checked by hash (unzipping
    changes the files' times), so a cold start compiles nothing."""
    archive_path = request.getfixturevalue(f"{app}_zip")
    with zipfile.ZipFile(archive_path) as archive:
        names = set(archive.namelist())
        sources = [n for n in names if n.endswith(".py")]
        missing = [s for s in sources if importlib.util.cache_from_source(s) not in names]
        assert sources and missing == []
        header = archive.read(importlib.util.cache_from_source("app.py"))[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, source not checked
