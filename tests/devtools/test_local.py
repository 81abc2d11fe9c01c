"""devtools/local.py: `chalice local` with API Gateway's greedy path variables, run as
`make dev` runs it (with the reloader, which starts the serving process again by path)."""

from __future__ import annotations

import pytest
import requests

from tests.servers import start_chalice_local, stop

pytestmark = [pytest.mark.http, pytest.mark.slow]


def test_make_devs_server_gives_unknown_addresses_the_sites_404(app_environment, tmp_path):
    process, base = start_chalice_local("web_frontend", app_environment, tmp_path / "web.log", autoreload=True)
    try:
        missing = requests.get(f"{base}/a/b/c", timeout=30)
        assert missing.status_code == 404 and "Page not found" in missing.text
        assert requests.get(f"{base}/about", timeout=30).status_code == 200
    finally:
        stop(process)
