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
                return redirect("/account", "Your account has been updated!", "success")
            if "image_filename" in changes:
                avatars.delete(changes["image_filename"], user["id"])
            errors = form_errors(answer, "username")
        elif not errors:
            return redirect("/account", "Nothing to change.", "info")
    return render("account.html", errors=errors, **fields)


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


@bp.route("/unsubscribe/{token}", methods=["GET", "POST"], content_types=PAGE_TYPES)
def unsubscribe(token: str) -> Response:
    """The link in every notification mail. GET asks (link checkers must not unsubscribe
    anyone); POST unsubscribes, from the page's button or from a mail provider's one-click
    request (RFC 8058), which carries no cookies: the signed token is the authority."""
    if bp.current_request.method == "GET":
        return render("unsubscribe.html", token=token, done=False)
    answer = api.call("users", "POST", "/email-preferences/unsubscribe", json={"token": token})
    if not answer.ok:
        raise PageError(400, answer.message)
    return render("unsubscribe.html", done=True, username=answer.data["username"])
