"""Register, log in (remember me, a safe ?next=), log out."""

from __future__ import annotations

import logging

from chalice.app import Blueprint, Response

from blog_shared.config import get_settings

from .. import api, oauth, visit
from ..web import PAGE_TYPES, PageError, form, form_errors, query_params, redirect, render, safe_next

log = logging.getLogger("blog.web")

bp = Blueprint(__name__)


def oauth_providers() -> list[str]:
    """The sign-in providers that are configured (GITHUB_CLIENT_ID, GOOGLE_CLIENT_ID)."""
    return [provider.name for provider in get_settings().oauth_providers]


@bp.route("/login/{provider}", methods=["GET"])
def oauth_start(provider: str) -> Response:
    chosen = get_settings().oauth_provider(provider)
    if chosen is None:
        raise PageError(404, "That sign-in method is not available.")
    me = visit.current()
    next_page = safe_next(query_params(bp.current_request).get("next"), default="/")
    attempt, cookie = oauth.new_attempt(chosen, next_page)
    me.set_cookie(oauth.STATE_COOKIE, cookie, oauth.STATE_SECONDS)
    return Response(body="", status_code=303, headers={"Location": oauth.authorization_url(chosen, attempt)})


@bp.route("/login/{provider}/callback", methods=["GET"])
def oauth_callback(provider: str) -> Response:
    chosen = get_settings().oauth_provider(provider)
    if chosen is None:
        raise PageError(404, "That sign-in method is not available.")
    me = visit.current()
    query = query_params(bp.current_request)
    me.set_cookie(oauth.STATE_COOKIE, "", 0)  # a state is good for one try
    try:
        attempt = oauth.check_state(chosen, me.cookies.get(oauth.STATE_COOKIE), query.get("state"))
        if query.get("error") or not query.get("code"):
            raise oauth.OAuthError(query.get("error") or "no code")
        email, hint = oauth.verified_identity(chosen, query["code"], attempt)
    except oauth.OAuthError as error:
        log.info("%s sign-in refused: %s", provider, error)
        return redirect("/login", f"Signing in with {provider.capitalize()} did not work. Please try again.", "danger")
    answer = oauth.sign_in(chosen, email, hint)
    if not answer.ok:
        return redirect("/login", answer.message, "danger")
    me.log_in(answer.body["access_token"], answer.data, remember=False)
    return redirect(safe_next(attempt.next_page), "You have been logged in!", "success")


@bp.route("/register", methods=["GET", "POST"], content_types=PAGE_TYPES)
def register() -> Response:
    me = visit.current()
    if me.user is not None:
        return redirect("/")
    fields = {"username": "", "email": ""}
    errors: dict[str, list[str]] = {}
    if bp.current_request.method == "POST":
        data = form()
        fields = {"username": data.get("username", "").strip(), "email": data.get("email", "").strip()}
        password, confirm = data.get("password", ""), data.get("confirm_password", "")
        if password != confirm:
            errors["confirm_password"] = ["Field must be equal to password."]
        else:
            answer = api.call("users", "POST", "/users", json={**fields, "password": password}, client=me.address)
            if answer.status == 201:
                return redirect("/login", "Your account has been created! You are now able to log in.", "success")
            errors = form_errors(answer, "username")
    return render(
        "register.html",
        errors=errors,
        oauth_providers=oauth_providers(),
        username=fields["username"],
        email=fields["email"],
    )


@bp.route("/login", methods=["GET", "POST"], content_types=PAGE_TYPES)
def login() -> Response:
    request = bp.current_request
    me = visit.current()
    next_page = safe_next(query_params(request).get("next"), default="")
    if me.user is not None:
        return redirect(next_page or "/")
    email, remember = "", False
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = form()
        email, remember = data.get("email", "").strip(), data.get("remember") == "y"
        answer = api.call(
            "users",
            "POST",
            "/user-auth",
            json={"email": email, "password": data.get("password", ""), "remember": remember},
            client=me.address,
        )
        if answer.ok:
            me.log_in(answer.body["access_token"], answer.data, remember)
            return redirect(next_page or "/", "You have been logged in!", "success")
        if answer.status == 429:
            me.flash("Too many failed attempts. Please wait a few minutes and try again.", "danger")
        else:
            me.flash("Login Unsuccessful. Please check email and password", "danger")
    return render(
        "login.html", errors=errors, email=email, remember=remember, next=next_page, oauth_providers=oauth_providers()
    )


@bp.route("/logout", methods=["GET", "POST"], content_types=PAGE_TYPES)
def logout() -> Response:
    """GET asks; POST (with its CSRF token) logs out and revokes the token at user_api."""
    me = visit.current()
    if bp.current_request.method == "GET":
        return render("logout.html") if me.user else redirect("/")
    if me.token:
        api.call("users", "DELETE", "/user-auth", token=me.token)
    me.log_out()
    return redirect("/", "You have been logged out.", "info")


RESET_SENT = "An email has been sent with instructions to reset your password."
RESET_INVALID = "That is an invalid or expired token"


@bp.route("/reset_password", methods=["GET", "POST"], content_types=PAGE_TYPES)
def reset_request() -> Response:
    """Ask for a reset link. The answer is the same whether or not the email has an account."""
    me = visit.current()
    email = (me.user or {}).get("email", "")
    errors: dict[str, list[str]] = {}
    if bp.current_request.method == "POST":
        email = form().get("email", "").strip()
        answer = api.call("users", "POST", "/password-reset/request", json={"email": email}, client=me.address)
        if answer.ok:
            return redirect("/login", RESET_SENT, "info")
        errors = form_errors(answer, "email")
    return render("reset_request.html", email=email, errors=errors)


@bp.route("/reset_password/{token}", methods=["GET", "POST"], content_types=PAGE_TYPES)
def reset_token(token: str) -> Response:
    """Set a new password from a mailed link; every session of the account ends with it."""
    me = visit.current()
    errors: dict[str, list[str]] = {}
    if bp.current_request.method == "GET":
        if not api.call("users", "POST", "/password-reset/check", json={"token": token}).ok:
            return redirect("/reset_password", RESET_INVALID, "warning")
    else:
        data = form()
        password = data.get("password", "")
        if password != data.get("confirm_password", ""):
            errors["confirm_password"] = ["Field must be equal to password."]
        else:
            answer = api.call("users", "POST", "/password-reset", json={"token": token, "password": password})
            if answer.ok:
                me.log_out()
                return redirect("/login", "Your password has been updated! You are now able to log in", "success")
            if "token" in answer.errors:
                return redirect("/reset_password", RESET_INVALID, "warning")
            errors = form_errors(answer, "password")
    return render("reset_token.html", token=token, errors=errors)
