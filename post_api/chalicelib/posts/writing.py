"""What a post's Markdown becomes, once, when it is written: sanitised HTML, a plain-text
excerpt and the slug of its address.

Markdown is CommonMark with tables and strikethrough (markdown-it-py). Raw HTML in the
source is shown as text, never passed through; the rendered HTML is then cleaned by nh3
(ammonia) with an allow-list, so no script, event handler, style or ``javascript:``/
``data:`` URL survives whatever the renderer does, and every link gets
``rel="nofollow ugc noopener"``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import nh3
from markdown_it import MarkdownIt

EXCERPT_LENGTH = 300
SLUG_LENGTH = 80
# The site's own pages under /posts/<id>/: no post's address may be one of them.
RESERVED_SLUGS = frozenset({"like", "unlike", "comments", "update", "delete"})

TAGS = frozenset(
    {
        *("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code"),
        *("strong", "em", "del", "s", "a", "img", "ul", "ol", "li"),
        *("table", "thead", "tbody", "tr", "th", "td"),
    }
)
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"


@dataclass(frozen=True)
class Rendered:
    html: str
    excerpt: str


@cache
def _markdown() -> MarkdownIt:
    # "html": False: raw HTML in a post is text. Tables and strikethrough as GitHub has them.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def sanitise(rendered: str) -> str:
    return nh3.clean(
        rendered,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render(source: str) -> Rendered:
    """The post's HTML (safe to put in a page as it is) and its excerpt."""
    safe = sanitise(_markdown().render(source))
    return Rendered(html=safe, excerpt=excerpt_of(safe))


def excerpt_of(safe_html: str) -> str:
    """Plain text of the HTML, whitespace collapsed, at most ``EXCERPT_LENGTH`` characters
    (cut at a word, with an ellipsis)."""
    text = html.unescape(nh3.clean(re.sub(r"<(/p|br|/h\d|/li|/tr|/td|/th)\b", r" <\1", safe_html), tags=set()))
    text = " ".join(text.split())
    if len(text) <= EXCERPT_LENGTH:
        return text
    cut = text[: EXCERPT_LENGTH - 1]
    if " " in cut[EXCERPT_LENGTH // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" .,;:") + "…"


def slugify(title: str) -> str:
    """The title folded to ASCII words joined by hyphens ("Hello, World! Ünïcode" is
    ``hello-world-unicode``); ``post`` when nothing is left; never one of the site's pages."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", folded.lower()))[:SLUG_LENGTH].strip("-") or "post"
    return f"{slug}-post" if slug in RESERVED_SLUGS else slug
