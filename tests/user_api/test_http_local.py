"""user_api served by `chalice local` in a subprocess, exercised over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from devtools import pg
from tests.helpers import PASSWORD, register_over_http
from tests.servers import start_chalice_local, stop

pytestmark = pytest.mark.http


@pytest.fixture(scope="module")
def server(app_environment, tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("chalice") / "user_api.log"
    # Many users signing up from this one address: a load test's crowd, not one client.
    env = {**app_environment, "DB_POOL_SIZE": "20", "RATE_LIMIT_SCALE": "10"}
    process, base = start_chalice_local("user_api", env, log)
    yield base
    stop(process)


@pytest.mark.slow
def test_the_readme_journey_over_http(server):
    ann, token = register_over_http(server, "ann")
    assert requests.get(f"{server}/users", params={"username": "ann"}, timeout=10).json()["data"]["id"] == ann["id"]
    legacy = requests.get(
        f"{server}/user-auth", params={"email": "ann@example.com"}, json={"password": PASSWORD}, timeout=10
    )
    assert legacy.status_code == 200 and legacy.json()["data"]["id"] == ann["id"]
    anonymous = requests.put(f"{server}/users/{ann['id']}", json={"username": "annie"}, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["status"] == "fail"
    updated = requests.put(
        f"{server}/users/{ann['id']}",
        json={"username": "annie"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert updated.status_code == 200 and updated.json()["data"]["username"] == "annie"
    assert requests.get(f"{server}/openapi.json", timeout=10).json()["openapi"].startswith("3.")
    assert requests.delete(f"{server}/user-auth", headers={"Authorization": f"Bearer {token}"}, timeout=10).ok
    bad = requests.post(f"{server}/users", data=b"{nope", headers={"Content-Type": "application/json"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["message"] == "Request body must be valid JSON."


@pytest.mark.slow
def test_parallel_follow_and_unfollow_leave_consistent_counts(server, database_url):
    """20 parallel requests at a time, each on its own database connection."""
    star, _ = register_over_http(server, "star")
    fans = [register_over_http(server, f"fan{i}") for i in range(20)]

    def act(job: tuple[dict, str, str]) -> int:
        fan, token, method = job
        return requests.request(
            method, f"{server}/user-follow/{fan['id']}/star", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(act, [(fan, token, "POST") for fan, token in fans])) == [201] * 20
    # Odd fans unfollow while even fans follow again (idempotent), all at once.
    mixed = [(fan, token, "DELETE" if i % 2 else "POST") for i, (fan, token) in enumerate(fans)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        assert sorted(pool.map(act, mixed)) == [201] * 10 + [204] * 10

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM follows WHERE followed_id = :id"), {"id": star["id"]}).scalar()
    engine.dispose()
    assert rows == 10
    shown = requests.get(f"{server}/users/{star['id']}", timeout=10).json()["data"]
    assert shown["follower_count"] == 10
    for i, (fan, _) in enumerate(fans):
        count = requests.get(f"{server}/users/{fan['id']}", timeout=10).json()["data"]["following_count"]
        assert count == (0 if i % 2 else 1)


@pytest.mark.slow
def test_database_outage_is_503_and_recovers(app_environment, tmp_path):
    """Point a server at its own PostgreSQL, stop that database, then start it again."""
    from blog_shared import migrate

    db = pg.temporary_server()
    try:
        migrate.upgrade(db.url)
        process, base = start_chalice_local(
            "user_api", {**app_environment, "DATABASE_URL": db.url}, tmp_path / "user_api.log"
        )
        try:
            register_over_http(base, "ann")
            db.stop()
            down = requests.get(f"{base}/users", params={"username": "ann"}, timeout=30)
            assert down.status_code == 503
            assert down.json()["status"] == "fail"
            assert down.headers["Retry-After"]
            db.start()
            up = requests.get(f"{base}/users", params={"username": "ann"}, timeout=30)
            assert up.status_code == 200 and up.json()["data"]["username"] == "ann"
        finally:
            stop(process)
    finally:
        db.discard()


@pytest.mark.slow
def test_parallel_guesses_from_one_address_get_no_more_password_checks_than_the_limit(server):
    """Attempts from one address are serialised: thirty guesses at once still get only the
    address's ten password checks (401), the rest wait (429)."""
    from blog_shared import tokens
    from tests.helpers import app_module

    register_over_http(server, "ann")
    limit = app_module("user_api", "chalicelib.auth.store").ADDRESS_FAILURES
    headers = {tokens.CLIENT_HEADER: tokens.client_token("user-api", "203.0.113.200")}

    def guess(n: int) -> int:
        body = {"email": "ann@example.com", "password": f"guess {n}"}
        return requests.post(f"{server}/user-auth", json=body, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=15) as pool:
        statuses = list(pool.map(guess, range(3 * limit)))
    assert statuses.count(401) == limit and statuses.count(429) == 2 * limit, statuses
