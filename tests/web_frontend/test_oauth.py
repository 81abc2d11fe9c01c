"""Sign in with GitHub or Google: state checked, verified email required, account made once."""

from __future__ import annotations

import pytest

from tests import fake_oauth
from tests.helpers import start_oauth

# The web frontend calls user_api and post_api served by `chalice local` (api_servers).
pytestmark = pytest.mark.http


@pytest.mark.parametrize(("provider", "username"), [("github", "octo-cat"), ("google", "Gina")])
def test_sign_in_creates_the_account_once_and_logs_in(browser, provider, username):
    assert f'href="/login/{provider}"' in (browser.get("/login") and browser.text())
    query = start_oauth(browser, provider, "/posts/new")
    response = browser.get(f"/login/{provider}/callback?code={fake_oauth.GOOD_CODE}&state={query['state']}")
    assert response.status_code == 303 and response.headers["Location"] == "/posts/new"
    browser.get("/account")
    assert username in browser.text() and "Google or GitHub sign-in" in browser.text()
    browser.post("/logout")
    query = start_oauth(browser, provider)
    browser.get(f"/login/{provider}/callback?code={fake_oauth.GOOD_CODE}&state={query['state']}")
    browser.get("/account")
    assert username in browser.text() and f"{username}2" not in browser.text()


def test_a_wrong_missing_or_reused_state_is_refused(browser):
    query = start_oauth(browser, "github")
    wrong = browser.get(f"/login/github/callback?code={fake_oauth.GOOD_CODE}&state=forged")
    assert wrong.headers["Location"] == "/login" and "session" not in browser.cookies
    # The state cookie is gone after one try, so even the right state no longer works.
    browser.get(f"/login/github/callback?code={fake_oauth.GOOD_CODE}&state={query['state']}")
    assert "session" not in browser.cookies
    browser.follow_redirect()
    assert "did not work" in browser.text()


def test_bad_codes_and_unverified_emails_are_refused(browser):
    for code in ("nope", fake_oauth.UNVERIFIED_CODE):
        query = start_oauth(browser, "google")
        browser.get(f"/login/google/callback?code={code}&state={query['state']}")
        assert "session" not in browser.cookies
    query = start_oauth(browser, "github")
    browser.get(f"/login/github/callback?error=access_denied&state={query['state']}")
    assert "session" not in browser.cookies


def test_unknown_provider_is_404(browser):
    assert browser.get("/login/myspace").status_code == 404


@pytest.mark.parametrize("provider", ["github", "google"])
def test_a_code_is_only_exchanged_by_the_browser_that_asked_for_it(browser, second_browser, provider):
    """PKCE: the verifier lives in the state cookie of the browser that started the sign-in.
    An attacker who gets a victim's code, and starts a sign-in of their own, cannot use it."""
    attacker = start_oauth(second_browser, provider)  # the attacker's own sign-in, its own verifier
    start_oauth(browser, provider)  # the victim's: the code the provider hands out is bound to it
    second_browser.get(f"/login/{provider}/callback?code={fake_oauth.GOOD_CODE}&state={attacker['state']}")
    assert "session" not in second_browser.cookies
    second_browser.follow_redirect()
    assert "did not work" in second_browser.text()


@pytest.mark.parametrize("fault", fake_oauth.ID_TOKEN_FAULTS)
def test_googles_id_token_is_verified(browser, fault):
    """Signature against Google's published keys, issuer, audience, expiry and our nonce."""
    assert "nonce" in start_oauth(browser, "google")
    query = start_oauth(browser, "google")
    browser.get(f"/login/google/callback?code=id-{fault}&state={query['state']}")
    assert "session" not in browser.cookies, fault
    browser.follow_redirect()
    assert "did not work" in browser.text()
