"""A stolen session cannot quietly take the account: the email and the password change only
with the current password, a new address takes effect once confirmed from its own mail, the
old address is told and can undo it (ending every session), and accounts confirm their
address before notification mail goes to it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from blog_shared import limits, tokens
from tests.helpers import PASSWORD, app_module, write_post

pytestmark = pytest.mark.slow


def link(mail, path: str) -> str:
    [found] = [url for url in mail.links if f"/{path}/" in url]
    return found.rsplit("/", 1)[1]


def mails_to(mail_flow, address: str) -> list:
    mail_flow.deliver()
    return [m for m in mail_flow.sent() if address in m.to]


def test_a_stolen_token_cannot_change_the_email_or_the_password(users, mail_flow, database_url):
    ann, stolen = users.register_and_login("ann")
    path = f"/users/{ann['id']}"
    for body in (
        {"email": "thief@example.com"},
        {"email": "thief@example.com", "current_password": "a wrong guess"},
        {"password": "thief's new password"},
        {"password": "thief's new password", "current_password": "a wrong guess"},
    ):
        refused = users.put(path, body, token=stolen)
        assert refused.status_code == 400 and "current_password" in refused.json_body["errors"], body
    assert users.get("/users?email=ann@example.com", token=stolen).json_body["data"]["email"] == "ann@example.com"
    assert mails_to(mail_flow, "thief@example.com") == []
    assert users.post("/user-auth", {"email": "ann@example.com", "password": PASSWORD}).status_code == 200


def test_a_new_address_takes_effect_from_its_link_and_the_old_one_can_undo_it(users, mail_flow):
    ann, token = users.register_and_login("ann")
    mail_flow.deliver()
    asked = users.put(f"/users/{ann['id']}", {"email": "ann@new.example", "current_password": PASSWORD}, token=token)
    assert asked.status_code == 200 and asked.json_body["email_pending"] == "ann@new.example"
    assert asked.json_body["data"]["email"] == "ann@example.com"  # not yet
    [confirm_mail] = mails_to(mail_flow, "ann@new.example")
    assert confirm_mail.subject == "Confirm your new email address"
    confirmed = users.post("/email-confirmation", {"token": link(confirm_mail, "confirm_email")})
    assert confirmed.status_code == 200 and confirmed.json_body["data"]["email"] == "ann@new.example"
    assert users.post("/email-confirmation", {"token": link(confirm_mail, "confirm_email")}).status_code == 400
    # The old address is told, with a link that undoes the change and ends every session.
    [notice] = [m for m in mails_to(mail_flow, "ann@example.com") if "changed" in m.subject]
    assert "ann@new.example" in notice.text
    undone = users.post("/email-change/undo", {"token": link(notice, "undo_email_change")})
    assert undone.status_code == 200
    assert users.get("/users?email=ann@example.com", token=token).status_code == 401  # the session ended
    fresh = users.login("ann@example.com")
    assert users.get("/users?email=ann@example.com", token=fresh).json_body["data"]["email"] == "ann@example.com"
    # Used again (only the old address has it), it changes nothing more.
    assert users.post("/email-change/undo", {"token": link(notice, "undo_email_change")}).status_code == 200
    assert users.login("ann@example.com")


def test_an_account_made_with_a_provider_sets_its_first_password_only_by_the_reset_link(users):
    service = tokens.issue("web_frontend", tokens.SERVICE, 60).token
    made = users.post("/oauth-users", {"provider": "github", "email": "gh@example.com"}, token=service)
    assert made.status_code == 201
    user, token = made.json_body["data"], made.json_body["access_token"]
    assert user["email_confirmed"] is True  # the provider verified it
    refused = users.put(f"/users/{user['id']}", {"password": "a password of mine"}, token=token)
    assert refused.status_code == 403 and "Forgot password?" in refused.json_body["message"]


def test_new_accounts_confirm_their_address_before_notifications_reach_it(users, posts, mail_flow):
    ann = users.register("ann", confirm=False)
    assert ann["email_confirmed"] is False
    ann_token = users.login("ann@example.com")
    _, bob_token = users.register_and_login("bob")
    [welcome] = mails_to(mail_flow, "ann@example.com")
    confirm_token = link(welcome, "confirm_email")
    post = write_post(posts, ann_token)
    posts.post(f"/posts/{post['id']}/likes", token=bob_token)
    assert [m.subject for m in mails_to(mail_flow, "ann@example.com")] == [welcome.subject]  # no like mail
    # "Send again", rate-limited.
    again = f"/users/{ann['id']}/email-confirmation"
    for _ in range(limits.CONFIRMATION_MAIL.per_account):
        assert users.post(again, token=ann_token).status_code == 202
    assert users.post(again, token=ann_token).status_code == 429
    assert users.post(again, token=bob_token).status_code == 403
    resent = [m for m in mails_to(mail_flow, "ann@example.com") if m.subject == "Confirm your email address"]
    assert len(resent) == limits.CONFIRMATION_MAIL.per_account
    confirmed = users.post("/email-confirmation", {"token": confirm_token})
    assert confirmed.status_code == 200 and confirmed.json_body["data"]["email_confirmed"] is True
    posts.post(f"/posts/{post['id']}/comments", {"text": "Nice"}, token=bob_token)
    assert "Someone Commented on Your Post!" in [m.subject for m in mails_to(mail_flow, "ann@example.com")]


@pytest.mark.parametrize("token", ["", "x", "a.b.c"])
def test_a_damaged_link_is_a_400(users, token):
    for path in ("/email-confirmation", "/email-change/undo"):
        answer = users.post(path, {"token": token})
        assert answer.status_code == 400 and answer.json_body["status"] == "fail"


def change_address(users, mail_flow, user: dict, token: str, new: str) -> str:
    """Ask for ``new`` and confirm it from its mail; returns the undo link's token the old
    address got."""
    old = users.get("/users?email=" + user["email"], token=token).json_body["data"]["email"]
    asked = users.put(f"/users/{user['id']}", {"email": new, "current_password": PASSWORD}, token=token)
    assert asked.status_code == 200, asked.json_body
    [confirm_mail] = mails_to(mail_flow, new)
    assert users.post("/email-confirmation", {"token": link(confirm_mail, "confirm_email")}).status_code == 200
    [notice] = [m for m in mails_to(mail_flow, old) if "changed" in m.subject]
    user["email"] = new
    return link(notice, "undo_email_change")


def test_an_undone_change_cannot_be_confirmed_again_and_a_second_change_keeps_the_first_undo(users, mail_flow):
    ann, token = users.register_and_login("ann")
    mail_flow.deliver()
    # Someone with ann's password changes her address twice; her first undo link still works.
    undo_first = change_address(users, mail_flow, ann, token, "thief1@example.com")
    [confirm_again] = [m for m in mail_flow.sent() if "thief1@example.com" in m.to]
    change_address(users, mail_flow, ann, token, "thief2@example.com")
    assert users.post("/email-change/undo", {"token": undo_first}).status_code == 200
    assert users.login("ann@example.com")
    # The change link that was used cannot take the address away again after the undo.
    replay = users.post("/email-confirmation", {"token": link(confirm_again, "confirm_email")})
    assert replay.status_code == 400


def test_the_current_password_cannot_be_guessed_faster_than_a_login(users, database_url):
    ann, stolen = users.register_and_login("ann")
    store = app_module("user_api", "chalicelib.auth.store")
    for n in range(store.ADDRESS_FAILURES):
        body = {"password": "thief's password", "current_password": f"guess {n}"}
        assert users.put(f"/users/{ann['id']}", body, token=stolen).status_code == 400
    body = {"password": "thief's password", "current_password": PASSWORD}
    throttled = users.put(f"/users/{ann['id']}", body, token=stolen)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    engine = create_engine(database_url)
    with engine.connect() as conn:  # counted though each request failed
        failures = conn.execute(text("SELECT count(*) FROM login_attempts WHERE email = 'ann@example.com'"))
        assert failures.scalar_one() == store.ADDRESS_FAILURES
    engine.dispose()


@pytest.mark.parametrize("purpose", ["reset", "unsubscribe", "undo-as-confirm"])
def test_a_token_made_for_another_purpose_is_not_a_confirmation(users, purpose):
    ann = users.register("ann", confirm=False)
    fingerprint = tokens.email_fingerprint(ann["email"])
    made = {
        "reset": tokens.issue(ann["id"], tokens.PASSWORD_RESET, 60, ver=1, em=fingerprint),
        "unsubscribe": tokens.issue(ann["id"], tokens.UNSUBSCRIBE, 60),
        "undo-as-confirm": tokens.issue(ann["id"], tokens.EMAIL_UNDO, 60, old="x@example.com"),
    }[purpose].token
    assert users.post("/email-confirmation", {"token": made}).status_code == 400
    if purpose != "undo-as-confirm":
        assert users.post("/email-change/undo", {"token": made}).status_code == 400
