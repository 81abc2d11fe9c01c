"""Home (all posts or the followed-posts feed), About, static files and the 404 page."""

from __future__ import annotations

import mimetypes

from chalice.app import Blueprint, Response

from .. import api, visit
from ..web import HERE, PageError, query_params, redirect, render, url

bp = Blueprint(__name__)
PER_PAGE = 5
STATIC = HERE / "static"


def page_number(raw: str | None) -> int:
    """?page= as a positive int (ASCII digits, below a million); anything else is page 1."""
    if not raw or not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        return 1
    return int(raw) or 1


def page_links(page: int, pages: int) -> list[int | None]:
    """Numbered links with ellipses (None): the edges and the pages around the current one."""
    shown: list[int | None] = []
    for number in range(1, pages + 1):
        if number <= 1 or number > pages - 1 or page - 2 <= number <= page + 2:
            if shown and shown[-1] is not None and number - shown[-1] > 1:
                shown.append(None)
            shown.append(number)
    return shown


@bp.route("/", methods=["GET"])
def home() -> Response:
    return _home()


def _home() -> Response:
    """All posts, or with ?user= the posts of the people the user follows."""
    query = query_params(bp.current_request)
    page = page_number(query.get("page"))
    me = visit.current()
    params: dict[str, object] = {"page": page, "per_page": PER_PAGE}
    followed = query.get("user")
    if followed:
        if me.user is None:
            return redirect(url("/login", next=url("/", user=followed)), "Please log in to access this page.")
        if followed.lower() != me.user["username"].lower():
            raise PageError(403, "The followed-posts view is only for your own account.")
        params["user"] = me.user["username"]
    answer = api.call("posts", "GET", "/posts", token=me.token, params=params)
    if not answer.ok:
        raise PageError(answer.status if answer.status in (400, 403, 404) else 500, answer.message)
    meta = answer.body["pagination_meta"]
    return render(
        "home.html",
        posts=answer.data["posts"],
        meta=meta,
        page=page,
        links=page_links(page, meta["pages"]),
        followed=bool(followed),
    )


@bp.route("/home", methods=["GET"])
def home_alias() -> Response:
    return _home()


@bp.route("/about", methods=["GET"])
def about() -> Response:
    return render("about.html")


@bp.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    """The app's own CSS and images (no CDN), cacheable for a day."""
    path = (STATIC / name).resolve()
    if path.parent != STATIC or not path.is_file():
        raise PageError(404)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type == "image/svg+xml":
        body: str | bytes = path.read_text()
        content_type += "; charset=utf-8" if content_type.startswith("text/") else ""
    else:
        body = path.read_bytes()
    return Response(
        body=body, status_code=200, headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"}
    )
