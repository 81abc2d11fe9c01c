"""Register, log in (remember me, a safe ?next=), log out."""

from __future__ import annotations

from chalice import Blueprint, Response

from .. import api, visit
from ..web import PAGE_TYPES, form, redirect, render, safe_next

bp = Blueprint(__name__)


def oauth_providers() -> list[str]:
    return []  # Google and GitHub sign-in arrive with their configuration (see README)


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
            answer = api.call("users", "POST", "/users", json={**fields, "password": password})
            if answer.status == 201:
                return redirect("/login", "Your account has been created! You are now able to log in.", "success")
            errors = answer.errors or {"username": [answer.message]}
            for field in ("username", "email"):  # "This username has been taken." and the like
                if answer.message.startswith(f"This {field}"):
                    errors = {field: [answer.message]}
    return render("register.html", errors=errors, oauth_providers=oauth_providers(), **fields)


@bp.route("/login", methods=["GET", "POST"], content_types=PAGE_TYPES)
def login() -> Response:
    request = bp.current_request
    me = visit.current()
    next_page = safe_next((request.query_params or {}).get("next"), default="")
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
