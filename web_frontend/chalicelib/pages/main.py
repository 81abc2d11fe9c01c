"""Home (all posts or the followed-posts feed), About, static files and the 404 page."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

from chalice.app import Blueprint, Response

from blog_shared.http import MAX_PAGE

from .. import api, visit
from ..web import HERE, PageError, query_params, redirect, render, url

bp = Blueprint(__name__)
PER_PAGE = 5
STATIC = HERE / "static"
STATIC_FILES = frozenset(path.name for path in STATIC.iterdir() if path.is_file())


def page_number(raw: str | None) -> int:
    """?page= as a positive int; what is not ASCII digits is page 1, a page past the numbered
    ones a 400 (the last numbered page links further on)."""
    if not raw or not (raw.isascii() and raw.isdigit()):
        return 1
    if len(raw) > len(str(MAX_PAGE)) or int(raw) > MAX_PAGE:
        raise PageError(400, f"Pages are numbered up to {MAX_PAGE}; from there, follow the “Older posts” link.")
    return int(raw) or 1


def post_listing(query: Mapping[str, str], token: str | None, **filters: str) -> tuple[api.ApiResponse, dict[str, Any]]:
    """A page of posts for the home and user pages, by number (?page=) or, past the numbered
    pages, by the cursor of the page before (?after=): the API's answer and the template's
    values (``posts``, ``meta``, ``page``, ``links``, ``older``)."""
    after = query.get("after")
    page = None if after else page_number(query.get("page"))
    params: dict[str, Any] = {"per_page": PER_PAGE, **filters, **({"cursor": after} if after else {"page": page})}
    answer = api.call("posts", "GET", "/posts", token=token, params=params)
    if not answer.ok:
        return answer, {}
    meta = answer.body["pagination_meta"]
    cursor = answer.body.get("next_cursor")
    return answer, {
        "posts": answer.data["posts"],
        "meta": meta,
        "page": page,
        "links": page_links(page, min(meta["pages"], MAX_PAGE)) if page else [],
        # The last numbered page, and every page after it, links on by its cursor.
        "older": cursor if cursor and (page is None or page == MAX_PAGE) else None,
    }


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
    me = visit.current()
    filters: dict[str, str] = {}
    followed = query.get("user")
    if followed:
        if me.user is None:
            return redirect(url("/login", next=url("/", user=followed)), "Please log in to access this page.")
        if followed.lower() != me.user["username"].lower():
            raise PageError(403, "The followed-posts view is only for your own account.")
        filters["user"] = me.user["username"]
    answer, listing = post_listing(query, me.token, **filters)
    if not answer.ok:
        raise PageError(answer.status if answer.status in (400, 403, 404) else 500, answer.message)
    return render("home.html", followed=bool(followed), **listing)


@bp.route("/search", methods=["GET"])
def search() -> Response:
    """Posts matching the words of ?q=, best first, with their highlights (by page number)."""
    query = query_params(bp.current_request)
    words = " ".join(query.get("q", "").split())
    if not words:
        return render("search.html", search_words="", posts=[], meta=None, page=1, links=[], problem=None)
    page = page_number(query.get("page"))
    params = {"q": words, "page": page, "per_page": PER_PAGE}
    answer = api.call("posts", "GET", "/posts", token=visit.current().token, params=params)
    if answer.status == 400:
        return render(
            "search.html", 400, search_words=words, posts=[], meta=None, page=1, links=[], problem=answer.message
        )
    if not answer.ok:
        raise PageError(answer.status if answer.status in (403, 404) else 500, answer.message)
    meta = answer.body["pagination_meta"]
    links = page_links(page, min(meta["pages"], MAX_PAGE))
    posts = answer.data["posts"]
    return render("search.html", search_words=words, posts=posts, meta=meta, page=page, links=links, problem=None)


@bp.route("/tags/{name}", methods=["GET"])
def tag(name: str) -> Response:
    """The posts with a tag, newest first (paged as the home page)."""
    me = visit.current()
    query = query_params(bp.current_request)
    answer, listing = post_listing(query, me.token, tag=name)
    if answer.status == 400 and "tag" in answer.errors:
        raise PageError(404, "There is no such tag.")
    if not answer.ok:
        raise PageError(answer.status if answer.status in (400, 403, 404) else 500, answer.message)
    if not listing["posts"] and listing["page"] == 1:  # not its count: that follows a scheduled post later
        raise PageError(404, "No posts carry this tag.")
    return render("tag.html", tag=name.lower(), **listing)


@bp.route("/home", methods=["GET"])
def home_alias() -> Response:
    return _home()


@bp.route("/about", methods=["GET"])
def about() -> Response:
    return render("about.html")


@bp.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    """The app's own CSS and images (no CDN), cacheable for a day."""
    if name not in STATIC_FILES:  # the name never reaches the file system
        raise PageError(404)
    path = STATIC / name
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type == "image/svg+xml":
        body: str | bytes = path.read_text()
        content_type += "; charset=utf-8" if content_type.startswith("text/") else ""
    else:
        body = path.read_bytes()
    return Response(
        body=body, status_code=200, headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"}
    )


# Every method Chalice routes: an unknown address is the site's 404 page whatever the method.
ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@bp.route("/{proxy+}", methods=ANY_METHOD, content_types=["*/*"])
def not_found() -> Response:
    """Any address no other route has: API Gateway matches a greedy path last, and
    ``make dev`` serves it the same way (see devtools/local.py)."""
    raise PageError(404)
