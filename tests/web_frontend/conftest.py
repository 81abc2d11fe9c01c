"""The web frontend in-process (chalice.test.Client), talking over HTTP to user_api and
post_api under `chalice local`, through a cookie-keeping client (tests.helpers.Browser)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from tests.helpers import REPO, Browser, load_app


@pytest.fixture(scope="session")
def web_app(api_servers: dict[str, str]) -> Any:
    return load_app("web_frontend").app


@pytest.fixture
def browser(web_app: Any) -> Iterator[Browser]:
    with Client(web_app, stage_name="dev", project_dir=str(REPO / "web_frontend")) as client:
        yield Browser(client)


@pytest.fixture
def second_browser(web_app: Any) -> Iterator[Browser]:
    with Client(web_app, stage_name="dev", project_dir=str(REPO / "web_frontend")) as client:
        yield Browser(client)
