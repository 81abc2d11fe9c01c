"""For feed readers and search engines: Atom feeds, the sitemap and robots.txt.

A feed is the 20 newest public posts of the site, an author or a tag, each with its HTML.
Its ``ETag`` is a digest of the feed itself and ``Last-Modified`` its newest change, so a
reader polling again gets a 304 with no body.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from chalice.app import Blueprint, Response

from blog_shared.config import get_settings

from .. import api
from ..web import PageError, header

bp = Blueprint(__name__)
READ = ["GET", "HEAD"]  # HEAD: the headers alone (feed validators and link checkers ask so)
FEED_SIZE = 20
ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITE_TITLE = "Serverless Blog"
FEED_TYPE = "application/atom+xml; charset=utf-8"
# Readers and crawlers may keep these a few minutes (CloudFront too).
CACHE = "public, max-age=300"
SETTLED = timedelta(seconds=2)  # a feed's date is sent once it is this old


@bp.route("/feed.atom", methods=READ)
def site_feed() -> Response:
    return _feed({}, SITE_TITLE, "/", "/feed.atom")


@bp.route("/users/{username}/feed.atom", methods=READ)
def author_feed(username: str) -> Response:
    return _feed({"author": username}, "", "", "")


@bp.route("/tags/{name}/feed.atom", methods=READ)
def tag_feed(name: str) -> Response:
    tag = name.lower()
    path = f"/tags/{quote(tag)}"
    return _feed({"tag": tag}, f"Posts tagged {tag} · {SITE_TITLE}", path, f"{path}/feed.atom")


def _feed(filters: dict[str, str], title: str, page: str, self_path: str) -> Response:
    """The feed of the posts ``filters`` select; an author's takes its title and addresses
    from the name as the account spells it (one feed, whatever the case in the address)."""
    params = {"per_page": FEED_SIZE, "with_html": "true", **filters}
    answer = api.call("posts", "GET", "/posts", params=params)
    if answer.status == 404 or (answer.status == 400 and {"tag", "author"} & set(answer.errors)):
        raise PageError(404, "There is no such feed.")
    if not answer.ok:
        raise PageError(400, answer.message)
    posts: list[dict[str, Any]] = answer.data["posts"]
    if "tag" in filters and not posts:
        raise PageError(404, "No posts carry this tag.")
    if "author" in filters:
        name = answer.data["user_data"]["username"]
        path = f"/users/{quote(name)}"
        title, page, self_path = f"Posts by {name} · {SITE_TITLE}", f"{path}/posts", f"{path}/feed.atom"
    site = get_settings().public_url
    # The later of any post's last change anywhere and the newest publication: never backwards.
    modified = datetime.fromisoformat(answer.body["last_modified"])
    body = atom_feed(posts, title, site, page, self_path, modified)
    return _conditional(body, modified, FEED_TYPE)


def _changed(post: Mapping[str, Any]) -> datetime:
    """When an entry last changed: its last edit, or its publication if that came later (a
    scheduled post edited before it went live)."""
    published = datetime.fromisoformat(post["date_posted"])
    return max(published, datetime.fromisoformat(post["updated_at"])) if post["updated_at"] else published


def atom_feed(posts: list[dict[str, Any]], title: str, site: str, page: str, self_path: str, updated: datetime) -> str:
    """An Atom 1.0 document (RFC 4287) of ``posts`` (post_api's JSON, with content_html):
    the site's ``page`` in a feed at ``self_path``."""
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", site + self_path)
    _text(feed, "title", title)
    _text(feed, "updated", updated.astimezone(UTC).isoformat())
    _link(feed, site + page, "alternate", "text/html")
    _link(feed, site + self_path, "self", "application/atom+xml")
    _text(feed, "generator", SITE_TITLE)
    for post in posts:
        entry = ElementTree.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"{site}/posts/{post['id']}")  # not its slug: a new title is the same entry
        _text(entry, "title", post["title"])
        _link(entry, post["url"], "alternate", "text/html")
        _text(entry, "published", post["date_posted"])
        _text(entry, "updated", _changed(post).astimezone(UTC).isoformat())
        author = ElementTree.SubElement(entry, f"{{{ATOM}}}author")
        _text(author, "name", post["author"]["username"])
        _text(author, "uri", f"{site}/users/{quote(post['author']['username'])}/posts")
        for tag in post["tags"]:
            ElementTree.SubElement(entry, f"{{{ATOM}}}category", term=tag)
        _text(entry, "summary", post["excerpt"])
        # The HTML post_api rendered and sanitised, as text: the reader's own sanitiser applies too.
        _text(entry, "content", post["content_html"], type="html")
    return _document(feed)


XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


def _document(root: ElementTree.Element) -> str:
    return XML_DECLARATION + ElementTree.tostring(root, encoding="unicode")


# What XML 1.0 cannot hold. Posts refuse these; rows from before that rule may have them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(parent: ElementTree.Element, name: str, value: str, **attributes: str) -> None:
    ElementTree.SubElement(parent, f"{{{ATOM}}}{name}", attributes).text = _NOT_XML.sub("\ufffd", value)


def _link(parent: ElementTree.Element, href: str, rel: str, kind: str) -> None:
    ElementTree.SubElement(parent, f"{{{ATOM}}}link", rel=rel, type=kind, href=href)


def _conditional(body: str, modified: datetime, content_type: str) -> Response:
    """``body`` with its validators, or a 304 when the reader's copy is still current."""
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    headers: dict[str, str | list[str]] = {"ETag": etag, "Cache-Control": CACHE}
    # HTTP dates count whole seconds: a second in which the feed may still change (and a
    # little more, for a writer between its change and its commit) gets no date, or a
    # second change in it would answer 304 to a reader holding the first.
    dated = modified <= datetime.now(UTC) - SETTLED
    if dated:
        headers["Last-Modified"] = format_datetime(modified.astimezone(UTC).replace(microsecond=0), usegmt=True)
    request = bp.current_request
    since = header(request, "If-Modified-Since") if dated else ""  # no date of ours: ignored (RFC 9110)
    if _not_modified(header(request, "If-None-Match"), since, etag, modified):
        return Response(body="", status_code=304, headers=headers)
    return _answer(body, {**headers, "Content-Type": content_type})


def _answer(body: str, headers: dict[str, str | list[str]]) -> Response:
    """200 with ``body``, or with its headers alone for HEAD."""
    return Response(body="" if bp.current_request.method == "HEAD" else body, status_code=200, headers=headers)


def _not_modified(if_none_match: str, if_modified_since: str, etag: str, modified: datetime) -> bool:
    # RFC 9110: If-None-Match decides when sent; If-Modified-Since only without it.
    if if_none_match:
        return if_none_match.strip() == "*" or etag in [
            tag.strip().removeprefix("W/") for tag in if_none_match.split(",")
        ]
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and modified.replace(microsecond=0) <= since
    return False


@bp.route("/sitemap.xml", methods=READ)
def sitemap_index() -> Response:
    """The index of the sitemap's parts (each at most 10,000 addresses)."""
    answer = api.call("posts", "GET", "/sitemap")
    if not answer.ok:
        raise PageError(400, answer.message)
    site = get_settings().public_url
    ElementTree.register_namespace("", SITEMAP)
    index = ElementTree.Element(f"{{{SITEMAP}}}sitemapindex")
    parts = ["/sitemaps/pages.xml"]
    parts += [f"/sitemaps/posts-{n}.xml" for n in range(1, answer.data["post_parts"] + 1)]
    parts += [f"/sitemaps/users-{n}.xml" for n in range(1, answer.data["user_parts"] + 1)]
    for path in parts:
        entry = ElementTree.SubElement(index, f"{{{SITEMAP}}}sitemap")
        ElementTree.SubElement(entry, f"{{{SITEMAP}}}loc").text = site + path
    return _xml(_document(index))


@bp.route("/sitemaps/{name}", methods=READ)
def sitemap_part(name: str) -> Response:
    """``pages.xml`` (the home and about pages), ``posts-<n>.xml`` or ``users-<n>.xml``."""
    site = get_settings().public_url
    if name == "pages.xml":
        urls: list[dict[str, Any]] = [{"url": f"{site}/", "lastmod": None}, {"url": f"{site}/about", "lastmod": None}]
    else:
        kind, _, number = name.removesuffix(".xml").partition("-")
        if kind not in ("posts", "users") or not name.endswith(".xml") or not (number.isascii() and number.isdigit()):
            raise PageError(404)
        answer = api.call("posts", "GET", f"/sitemap/{kind}/{number}")
        if not answer.ok:
            raise PageError(404)
        urls = answer.data["urls"]
    ElementTree.register_namespace("", SITEMAP)
    urlset = ElementTree.Element(f"{{{SITEMAP}}}urlset")
    for item in urls:
        entry = ElementTree.SubElement(urlset, f"{{{SITEMAP}}}url")
        ElementTree.SubElement(entry, f"{{{SITEMAP}}}loc").text = item["url"]
        if item["lastmod"]:
            ElementTree.SubElement(entry, f"{{{SITEMAP}}}lastmod").text = item["lastmod"]
    return _xml(_document(urlset))


def _xml(body: str) -> Response:
    headers: dict[str, str | list[str]] = {
        "Content-Type": "application/xml; charset=utf-8",
        "Cache-Control": "public, max-age=3600",
    }
    return _answer(body, headers)


# Pages that are a visitor's own, or forms: nothing for a search engine to index.
PRIVATE_PATHS = ("/account", "/drafts", "/posts/new", "/login", "/register", "/logout", "/reset_password", "/search")


@bp.route("/robots.txt", methods=READ)
def robots() -> Response:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS)]
    lines += ["", f"Sitemap: {get_settings().public_url}/sitemap.xml", ""]
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": "public, max-age=86400",
    }
    return _answer("\n".join(lines), headers)
