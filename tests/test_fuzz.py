"""Both APIs fuzzed against their own OpenAPI descriptions by schemathesis, over `chalice
local`: its examples, coverage, fuzzing and stateful phases with a fixed seed and a bounded
number of cases per operation (tests/schemathesis.toml), every check, as a registered user.

No operation may answer a server error, and each must keep to its description: what it calls
valid is accepted, what it calls invalid refused, and every status, content type and body is
one it documents."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from blog_shared import tokens
from tests.helpers import PASSWORD, REPO, register_over_http

pytestmark = [pytest.mark.http, pytest.mark.slow]

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
CONFIG = Path(__file__).with_name("schemathesis.toml")


def login(users: str, email: str) -> str:
    response = requests.post(f"{users}/user-auth", json={"email": email, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.mark.parametrize("api", ["users", "posts"])
def test_the_api_keeps_to_its_openapi_description(api: str, api_servers: dict[str, str]) -> None:
    user, token = register_over_http(api_servers["users"], f"fuzz_{api}")
    if api == "users":
        register_over_http(api_servers["users"], "fuzz_star")  # someone to follow
    environment = {
        **os.environ,
        "FUZZ_TOKEN": token,
        "FUZZ_LOGOUT_TOKEN": login(api_servers["users"], user["email"]),
        "FUZZ_SERVICE_TOKEN": tokens.issue("web_frontend", tokens.SERVICE, 600).token,
        "FUZZ_USER_ID": str(user["id"]),
    }
    artifacts = REPO / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    command = [
        SCHEMATHESIS,
        f"--config-file={CONFIG}",
        "--no-color",
        "run",
        f"{api_servers[api]}/openapi.json",
        "--phases=examples,coverage,fuzzing,stateful",
        "--checks=all",
        "--report=junit",
        f"--report-junit-path={artifacts / f'schemathesis-{api}.xml'}",
    ]
    result = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=300)
    # Every failure with the curl command that reproduces it; the summary's figures otherwise.
    assert result.returncode == 0, result.stdout + result.stderr
    operations = next((line.strip() for line in result.stdout.splitlines() if "Operations:" in line), "")
    print(operations, result.stdout[result.stdout.rfind("Test cases:") :])
