"""The apps as `make dev` runs them (`chalice local`, each with only its own keys): post_api
cannot sign an access token either API accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from blog_shared import keys
from tests.helpers import forged_access_tokens, register_over_http

pytestmark = pytest.mark.http


def process_environment(pid: str) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (entry.decode().partition("=") for entry in raw.split(b"\0") if entry)
    return {name: value for name, _, value in pairs}


def test_post_api_holds_no_private_key_and_nothing_it_signs_is_accepted(api_servers):
    post_api = process_environment(api_servers["post_api_pid"])
    assert keys.ACCESS_SIGNING_KEY not in post_api and keys.LINK_SECRET not in post_api
    assert keys.SERVICE_SECRET not in post_api and keys.COOKIE_SECRET not in post_api
    assert "PRIVATE KEY" not in "".join(post_api.values())
    held = {name: post_api[name] for name in keys.NEEDED_BY["post_api"]}
    assert keys.ACCESS_SIGNING_KEY in process_environment(api_servers["user_api_pid"])

    user, token = register_over_http(api_servers["users"], "keyholder")
    post = {"title": "Mine", "content": "Written with my own token."}
    for forged in forged_access_tokens(held, subject=str(user["id"])):
        headers = {"Authorization": f"Bearer {forged}"}
        written = requests.post(f"{api_servers['posts']}/posts", json=post, headers=headers, timeout=30)
        assert written.status_code == 401, written.text
        changed = requests.put(
            f"{api_servers['users']}/users/{user['id']}", json={"about_me": "forged"}, headers=headers, timeout=30
        )
        assert changed.status_code == 401, changed.text
    real = requests.post(
        f"{api_servers['posts']}/posts", json=post, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert real.status_code == 201, real.text
