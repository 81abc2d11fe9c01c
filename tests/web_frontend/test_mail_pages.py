"""Password reset and unsubscribe through the web pages, with the mail read back from the
emulator's SES after the worker ran user_api's SQS handler."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from blog_shared import tokens
from tests import fake_oauth
from tests.helpers import PASSWORD, start_oauth

# The web frontend calls user_api and post_api served by `chalice local` (api_servers).
pytestmark = pytest.mark.http

NEW_PASSWORD = "a brand new passphrase"


def reset_link(mail_flow, address: str) -> str:
    mail_flow.deliver()
    [mail] = [m for m in mail_flow.sent() if m.subject == "Password Reset Request" and address in m.to]
    [link] = [link for link in mail.links if "/reset_password/" in link]
    assert link.startswith("http://blog.test/reset_password/")
    return urlsplit(link).path


@pytest.mark.slow
def test_the_whole_reset_flow(browser, second_browser, mail_flow):
    browser.sign_up("ann")
    second_browser.sign_up("ann2")  # another account, whose session must survive
    old_session = dict(browser.cookies)
    ann2_session = dict(second_browser.cookies)

    # The login page links to the form, which answers the same for any email.
    anonymous = second_browser
    anonymous.cookies.clear()
    assert 'href="/reset_password"' in anonymous.page("/login")
    anonymous.get("/reset_password")
    assert anonymous.post("/reset_password", {"email": "nobody@example.com"}).status_code == 303
    assert "An email has been sent with instructions" in anonymous.redirected_page()
    assert anonymous.post("/reset_password", {"email": "ann@example.com"}).status_code == 303
    assert "An email has been sent with instructions" in anonymous.redirected_page()
    path = reset_link(mail_flow, "ann@example.com")

    # The link opens the form; mismatched passwords are a form error.
    assert "Choose a new password" in anonymous.page(path)
    answer = anonymous.post(path, {"password": NEW_PASSWORD, "confirm_password": "something else"})
    assert answer.status_code == 400 and "Field must be equal to password." in anonymous.text()
    assert anonymous.post(path, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}).status_code == 303
    assert "Your password has been updated!" in anonymous.redirected_page()

    # The old password and the old session no longer work; the new password does.
    assert anonymous.post("/login", {"email": "ann@example.com", "password": PASSWORD}).status_code == 200
    assert "Login Unsuccessful" in anonymous.text()
    browser.cookies = old_session
    assert browser.get("/account").status_code == 303  # logged out: sent to the login page
    assert anonymous.post("/login", {"email": "ann@example.com", "password": NEW_PASSWORD}).status_code == 303
    anonymous.cookies = ann2_session
    assert anonymous.get("/account").status_code == 200 and "ann2@example.com" in anonymous.text()

    # The link works once.
    anonymous.get("/logout")
    fresh = anonymous
    fresh.cookies.clear()
    assert fresh.get(path).status_code == 303
    assert fresh.last.headers["Location"] == "/reset_password"
    assert "That is an invalid or expired token" in fresh.redirected_page()
    fresh.get("/reset_password")
    assert fresh.post(path, {"password": "another one here", "confirm_password": "another one here"}).status_code == 303
    assert "That is an invalid or expired token" in fresh.redirected_page()


def test_expired_tampered_and_wrong_purpose_tokens_are_refused(browser, users):
    ann = users.register("ann")
    fingerprint = tokens.email_fingerprint(ann["email"])
    good = tokens.issue(ann["id"], tokens.PASSWORD_RESET, 60, ver=1, em=fingerprint).token
    expired = tokens.issue(ann["id"], tokens.PASSWORD_RESET, -1, ver=1, em=fingerprint).token
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    access = users.login("ann@example.com")
    for token in (expired, tampered, access, "not-a-token"):
        assert browser.get(f"/reset_password/{token}").status_code == 303
        assert "That is an invalid or expired token" in browser.redirected_page()
        browser.get("/reset_password")
        answer = browser.post(f"/reset_password/{token}", {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        assert answer.status_code == 303 and answer.headers["Location"] == "/reset_password"
    # The untouched token still works: nothing above changed the password.
    assert "Choose a new password" in browser.page(f"/reset_password/{good}")
    assert users.login("ann@example.com")


@pytest.mark.slow
def test_an_oauth_account_can_set_a_password(browser, users, mail_flow):
    query = start_oauth(browser, "github")
    browser.get(f"/login/github/callback?code={fake_oauth.GOOD_CODE}&state={query['state']}")
    assert "Set a password" in browser.page("/account")
    email = "octo@example.com"  # what the stand-in GitHub reports, verified
    assert email in browser.page("/reset_password")  # filled in for a signed-in user
    assert browser.post("/reset_password", {"email": email}).status_code == 303
    path = reset_link(mail_flow, email)
    assert browser.post(path, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}).status_code == 303
    assert users.login(email, NEW_PASSWORD)


@pytest.mark.slow
def test_unsubscribe_page_and_one_click(browser, second_browser, users, mail_flow):
    browser.sign_up("ann")
    second_browser.sign_up("bob")
    assert second_browser.post("/users/ann/follow").status_code == 303
    mail_flow.deliver()
    [mail] = [m for m in mail_flow.sent() if m.subject == "Someone Followed You!"]
    path = urlsplit(mail.headers["List-Unsubscribe"].strip("<>")).path
    assert f"http://blog.test{path}" in mail.links

    # Opening the link only asks.
    assert "Stop mail to ann about likes" in browser.page(path)  # user_api checked the link
    assert 'name="email_notifications" value="y" checked' in browser.page("/account")
    # A mail provider's one-click POST: no cookies, no CSRF token, just the signed link.
    one_click = second_browser
    one_click.cookies.clear()
    answer = one_click.request(
        "POST", path, "List-Unsubscribe=One-Click", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 200 and "You are unsubscribed" in one_click.text()
    assert 'name="email_notifications" value="y" checked' not in browser.page("/account")

    # The account page turns it back on; a forged link is a 400 page.
    browser.post_multipart(
        "/account",
        {"username": "ann", "email": "ann@example.com", "notifications_form": "1", "email_notifications": "y"},
        {},
    )
    assert 'name="email_notifications" value="y" checked' in browser.page("/account")
    assert (
        one_click.request(
            "POST",
            path[:-3] + "xyz",
            "List-Unsubscribe=One-Click",
            {"Content-Type": "application/x-www-form-urlencoded"},
        ).status_code
        == 400
    )


def test_an_unconfirmed_address_shows_a_banner_until_its_link_is_used(browser, mail_flow):
    browser.sign_up("ann", confirm=False)
    assert "Please confirm your address ann@example.com" in browser.page("/")
    browser.post("/account/confirmation")
    assert "we sent it a new link" in browser.redirected_page()
    mail_flow.deliver()
    [again] = [m for m in mail_flow.sent() if m.subject == "Confirm your email address"]
    path = urlsplit(next(link for link in again.links if "/confirm_email/" in link)).path
    # Opening the link only asks (a mail scanner changes nothing); the button confirms.
    assert "Use this address for your account?" in browser.page(path)
    assert "Please confirm your address" in browser.page("/")
    browser.get(path)
    action = re.search(r'<form method="post" action="(/confirm_email/[^"]+)"', browser.text()).group(1)
    assert action == path  # the site's own path (API Gateway's would carry its stage)
    assert browser.post(action).status_code == 200 and "is confirmed" in browser.text()
    assert "Please confirm your address" not in browser.page("/")
    browser.get(path)
    assert browser.post(path).status_code == 200 and "is confirmed" in browser.text()  # twice is harmless


@pytest.mark.parametrize("token", ["forged", "a.b.c", "x" * 300])
def test_a_forged_link_is_refused_before_any_form_is_shown(browser, token):
    assert browser.get(f"/unsubscribe/{token}").status_code == 400
    assert "Unsubscribe</button>" not in browser.text()
    for path in (f"/confirm_email/{token}", f"/undo_email_change/{token}"):
        browser.get(path)
        assert browser.post(path).status_code == 400
