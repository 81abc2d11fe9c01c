"""The account page, a user's posts, follow and unfollow, unsubscribe links."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalice.app import Blueprint, Response

from .. import api, avatars, visit
from ..web import (
    PAGE_TYPES,
    PageError,
    Upload,
    form,
    form_errors,
    login_required,
    query_params,
    redirect,
    render,
    url,
)
from .main import post_listing

bp = Blueprint(__name__)


@bp.route("/account", methods=["GET", "POST"], content_types=PAGE_TYPES)
def account() -> Response:
    me = login_required()
    user = me.user
    assert user is not None
    fields = {"username": user["username"], "email": user.get("email", "")}
    errors: dict[str, list[str]] = {}
    if bp.current_request.method == "POST":
        data = form()
        changes: dict[str, Any] = {}
        if not user["from_oauth"]:
            fields = {"username": data.get("username", "").strip(), "email": data.get("email", "").strip()}
            changes = {k: v for k, v in fields.items() if v != user.get(k)}
            if "email" in changes:  # proven by the password (see user_api's PUT /users/<id>)
                changes["current_password"] = data.get("current_password", "")
        if data.get("notifications_form"):  # an unchecked box sends nothing, so the form says it had one
            wanted = data.get("email_notifications") == "y"
            if wanted != user.get("email_notifications"):
                changes["email_notifications"] = wanted
        picture = data.get("picture")
        if isinstance(picture, Upload):
            stored = avatars.store(picture.content, user["id"])
            if isinstance(stored, avatars.Rejected):
                errors["picture"] = [stored.reason]
            else:
                changes["image_filename"] = stored
        if not errors and changes:
            answer = api.call("users", "PUT", f"/users/{user['id']}", token=me.token, json=changes)
            if answer.ok:
                if "image_filename" in changes:
                    avatars.delete(user.get("image_filename"), user["id"])
                pending = answer.body.get("email_pending")
                if pending:
                    return redirect("/account", f"We sent a link to {pending}: open it to use that address.", "info")
                return redirect("/account", "Your account has been updated!", "success")
            if "image_filename" in changes:
                avatars.delete(changes["image_filename"], user["id"])
            errors = form_errors(answer, "username")
        elif not errors:
            return redirect("/account", "Nothing to change.", "info")
    return render("account.html", errors=errors, **fields)


@bp.route("/drafts", methods=["GET"])
def drafts() -> Response:
    """Your drafts (or with ?status=scheduled, your scheduled posts), newest first."""
    me = login_required()
    assert me.user is not None
    query = query_params(bp.current_request)
    status = "scheduled" if query.get("status") == "scheduled" else "draft"
    answer, listing = post_listing(query, me.token, author=me.user["username"], status=status)
    if not answer.ok:
        raise PageError(answer.status if answer.status in (400, 403, 404) else 500, answer.message)
    return render("drafts.html", listing_status=status, **listing)


@bp.route("/users/{username}/posts", methods=["GET"])
def user_posts(username: str) -> Response:
    me = visit.current()
    answer, listing = post_listing(query_params(bp.current_request), me.token, author=username)
    if answer.status == 404:
        raise PageError(404, f"There is no user called {username}.")
    if not answer.ok:
        raise PageError(400, answer.message)
    user = answer.data["user_data"]
    following = False
    if me.user is not None and me.user["id"] != user["id"]:
        status = api.call("users", "GET", f"/user-follow/{me.user['id']}/{quote(user['username'])}", token=me.token)
        following = bool(status.ok and status.data["following"])
    return render("user_posts.html", user=user, following=following, **listing)


@bp.route("/users/{username}/follow", methods=["POST"], content_types=PAGE_TYPES)
def follow(username: str) -> Response:
    return _follow(username, "POST", "You followed {name}!")


@bp.route("/users/{username}/unfollow", methods=["POST"], content_types=PAGE_TYPES)
def unfollow(username: str) -> Response:
    return _follow(username, "DELETE", "You unfollowed {name}.")


def _follow(username: str, method: str, message: str) -> Response:
    me = login_required()
    assert me.user is not None
    answer = api.call("users", method, f"/user-follow/{me.user['id']}/{quote(username)}", token=me.token)
    back = url(f"/users/{quote(username)}/posts")
    if answer.status == 404:
        raise PageError(404, f"There is no user called {username}.")
    if answer.status == 400:
        return redirect(back, answer.message, "danger")
    if not answer.ok:
        raise PageError(answer.status if answer.status in (401, 403) else 400, answer.message)
    return redirect(back, message.format(name=username), "success")


@bp.route("/account/confirmation", methods=["POST"], content_types=PAGE_TYPES)
def send_confirmation_again() -> Response:
    me = login_required()
    assert me.user is not None
    answer = api.call("users", "POST", f"/users/{me.user['id']}/email-confirmation", token=me.token, client=me.address)
    if answer.status == 429:
        raise PageError.throttled(answer)
    return redirect("/account", answer.message, "info" if answer.ok else "danger")


@bp.route("/confirm_email/{token}", methods=["GET", "POST"], content_types=PAGE_TYPES)
def confirm_email(token: str) -> Response:
    """The link that confirms an address (a new account's, or a new one for an account). GET
    asks, so that a mail scanner opening the link changes nothing; the button confirms."""
    return _mail_link(
        token,
        f"/confirm_email/{token}",
        "/email-confirmation",
        heading="Confirm your email address",
        text="Use this address for your account?",
        button="Confirm",
    )


@bp.route("/undo_email_change/{token}", methods=["GET", "POST"], content_types=PAGE_TYPES)
def undo_email_change(token: str) -> Response:
    """The link mailed to the old address after a change: puts it back, ends every session."""
    return _mail_link(
        token,
        f"/undo_email_change/{token}",
        "/email-change/undo",
        heading="Undo the change of address",
        text="Put your old address back and log out everywhere? Then set a new password if someone else knew it.",
        button="Undo the change",
        ends_sessions=True,
    )


def _mail_link(
    token: str, page: str, api_path: str, heading: str, text: str, button: str, ends_sessions: bool = False
) -> Response:
    """GET: the page with its button (posting back to ``page``, the site's own path: API
    Gateway's request path would carry its stage); POST: the API call (then, when it
    ``ends_sessions``, this browser's too)."""
    request = bp.current_request
    if request.method == "GET":
        return render("mail_link.html", heading=heading, text=text, button=button, action=page)
    answer = api.call("users", "POST", api_path, json={"token": token})
    if not answer.ok:
        raise PageError(400, answer.message if answer.status == 400 else None)
    if ends_sessions:
        visit.current().log_out()
    return render("mail_link.html", heading=heading, text=answer.message, button=None)


@bp.route("/unsubscribe/{token}", methods=["GET", "POST"], content_types=PAGE_TYPES)
def unsubscribe(token: str) -> Response:
    """The link in every notification mail. GET asks (link checkers must not unsubscribe
    anyone), once user_api (which alone holds the link secret) has checked the token; POST
    unsubscribes, from the page's button or from a mail provider's one-click request (RFC
    8058), which carries no cookies: the signed token is the authority."""
    asking = bp.current_request.method == "GET"
    path = "/email-preferences/unsubscribe" + ("/preview" if asking else "")
    answer = api.call("users", "POST", path, json={"token": token})
    if not answer.ok:
        raise PageError(400, answer.message)
    return render("unsubscribe.html", token=token, done=not asking, username=answer.data["username"])
