"""Settings: bad numbers and, outside dev, local or plain-http addresses are refused at
start-up (the keys' checks are in test_keys.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blog_shared.config import ConfigError, check_at_startup, get_settings, load_settings
from tests.helpers import fresh_keys


@pytest.fixture
def environ(monkeypatch) -> Iterator[pytest.MonkeyPatch]:
    """A dev-stage environment with every key to start from (what `app_environment` gives the
    apps, without its servers)."""
    with fresh_keys(monkeypatch, "dev") as environ:
        yield environ


def test_a_bad_number_is_a_config_error(environ):
    environ.setenv("DB_POOL_SIZE", "many")
    with pytest.raises(ConfigError, match="DB_POOL_SIZE"):
        load_settings()


@pytest.mark.parametrize(
    "url",
    ["http://blog.example.com", "https://localhost", "https://127.0.0.1:8000", "https://[::1]", "https://a.localhost"],
)
def test_outside_dev_an_address_on_this_machine_or_in_plain_http_is_refused(environ, url):
    environ.setenv("APP_STAGE", "prod")
    environ.setenv("PUBLIC_URL", url)
    with pytest.raises(ConfigError, match="PUBLIC_URL must be an https:// address"):
        check_at_startup("web_frontend", addresses=("PUBLIC_URL",))
    environ.setenv("PUBLIC_URL", "https://blog.example.com")
    environ.setenv("USER_API_URL", url)
    get_settings.cache_clear()
    check_at_startup("web_frontend", addresses=("PUBLIC_URL",))  # each app checks the addresses it uses
    with pytest.raises(ConfigError, match="USER_API_URL"):
        check_at_startup("web_frontend", addresses=("PUBLIC_URL", "USER_API_URL"))
    environ.setenv("APP_STAGE", "dev")
    get_settings.cache_clear()
    check_at_startup("web_frontend", addresses=("PUBLIC_URL", "USER_API_URL"))  # local development is plain http
