"""post_api and user_api served by `chalice local`: the original's calls over HTTP, writes
only with a token from user_api, and 50 concurrent likes."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import register_over_http
from tests.servers import start_chalice_local, stop

pytestmark = pytest.mark.http


@pytest.fixture(scope="module")
def servers(app_environment, tmp_path_factory) -> Iterator[tuple[str, str]]:
    logs = tmp_path_factory.mktemp("chalice")
    # Fifty users signing up from this one address: a load test's crowd, not one client.
    env = {**app_environment, "DB_POOL_SIZE": "20", "RATE_LIMIT_SCALE": "10"}
    user_process, user_base = start_chalice_local("user_api", env, logs / "user_api.log")
    post_process, post_base = start_chalice_local("post_api", env, logs / "post_api.log")
    yield user_base, post_base
    stop(post_process)
    stop(user_process)


@pytest.mark.slow
def test_the_original_calls_with_a_token_from_user_api(servers):
    user_base, post_base = servers
    ann, token = register_over_http(user_base, "ann")
    auth = {"Authorization": f"Bearer {token}"}
    anonymous = requests.post(
        f"{post_base}/posts", json={"user_id": ann["id"], "title": "Hi", "content": "c"}, timeout=10
    )
    assert anonymous.status_code == 401
    created = requests.post(
        f"{post_base}/posts", json={"user_id": ann["id"], "title": "Hi", "content": "c"}, headers=auth, timeout=10
    )
    assert created.status_code == 201
    post_id = created.json()["data"]["id"]
    listed = requests.get(f"{post_base}/posts", params={"page": 1, "per_page": 5, "author": "ann"}, timeout=10).json()
    assert listed["data"]["posts"][0]["id"] == post_id and listed["pagination_meta"]["total"] == 1
    assert requests.post(f"{post_base}/posts/{post_id}", json={"title": "Hey"}, headers=auth, timeout=10).ok
    assert requests.post(f"{post_base}/posts/{post_id}/likes", headers=auth, timeout=10).status_code == 201
    comment = requests.post(
        f"{post_base}/posts/{post_id}/comments", json={"user_id": ann["id"], "text": "me"}, headers=auth, timeout=10
    )
    assert comment.status_code == 201
    detail = requests.get(f"{post_base}/posts/{post_id}", timeout=10).json()["data"]
    assert (detail["title"], detail["likes"], len(detail["comments"])) == ("Hey", 1, 1)
    assert requests.delete(f"{post_base}/posts/{post_id}", headers=auth, timeout=10).status_code == 204
    assert requests.get(f"{post_base}/posts/{post_id}", timeout=10).status_code == 404
    forged = {"Authorization": "Bearer " + token[:-2] + ("AA" if not token.endswith("AA") else "BB")}
    assert (
        requests.post(f"{post_base}/posts", json={"title": "t", "content": "c"}, headers=forged, timeout=10).status_code
        == 401
    )


@pytest.mark.slow
def test_fifty_concurrent_likes_from_fifty_users_count_fifty(servers):
    user_base, post_base = servers
    _, author_token = register_over_http(user_base, "author")
    post = requests.post(
        f"{post_base}/posts",
        json={"title": "Like me", "content": "please"},
        headers={"Authorization": f"Bearer {author_token}"},
        timeout=10,
    ).json()["data"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        fans = list(pool.map(lambda i: register_over_http(user_base, f"liker{i}")[1], range(50)))

    def like(token: str) -> int:
        url = f"{post_base}/posts/{post['id']}/likes"
        return requests.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        assert list(pool.map(like, fans)) == [201] * 50
    with ThreadPoolExecutor(max_workers=20) as pool:  # one user, twenty times at once
        assert list(pool.map(like, [fans[0]] * 20)) == [201] * 20
    assert requests.get(f"{post_base}/posts/{post['id']}", timeout=10).json()["data"]["likes"] == 50
