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
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

EXCERPT_LENGTH = 300
MAX_HTML = 100_000  # characters of rendered HTML: a post, and a page of them, stays small
SLUG_LENGTH = 80
# The site's own pages under /posts/<id>/: no post's address may be one of them.
RESERVED_SLUGS = frozenset({"like", "unlike", "comments", "update", "delete"})

# No h1 (a post's headings sit below its page's title) and no img: an image is shown as a
# link to it (the site's pages load no image from other hosts, and one from the site itself
# would be a request made by every reader's browser).
TAGS = frozenset(
    {
        *("p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code"),
        *("strong", "em", "del", "s", "a", "ul", "ol", "li"),
        *("table", "thead", "tbody", "tr", "th", "td"),
    }
)
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
# A table column's alignment, as a class (the site allows no inline styles).
ALIGNMENTS = frozenset({"align-left", "align-center", "align-right"})
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"


class UnshowableError(ValueError):
    """The source renders to nothing, or to more HTML than a post may have."""


@dataclass(frozen=True)
class Rendered:
    html: str
    excerpt: str


@cache
def _markdown() -> MarkdownIt:
    # "html": False: raw HTML in a post is text. Tables and strikethrough as GitHub has them.
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_link)
    return md


def _image_as_link(renderer: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    image = tokens[idx]
    src = str(image.attrGet("src") or "")
    text = renderer.renderInlineAsText(image.children or [], options, env) or src
    return f'<a href="{escapeHtml(src)}">{escapeHtml(text)}</a>'


def _rendered(source: str) -> str:
    """The source's HTML, its headings one level down (h1 is the page's; h6 stays h6), table
    alignment as classes."""
    md = _markdown()
    tokens = md.parse(source, {})
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        elif token.type in ("th_open", "td_open") and token.attrs.get("style"):
            align = str(token.attrs.pop("style")).removeprefix("text-align:")
            token.attrSet("class", f"align-{align}")
    html: str = md.renderer.render(tokens, md.options, {})
    return html


def sanitise(rendered: str) -> str:
    return nh3.clean(
        rendered,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        allowed_classes={"th": set(ALIGNMENTS), "td": set(ALIGNMENTS)},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render(source: str) -> Rendered:
    """The post's HTML (safe to put in a page as it is) and its excerpt; UnshowableError
    when there would be nothing to show, or too much."""
    safe = sanitise(_rendered(source))
    if len(safe) > MAX_HTML:
        raise UnshowableError("This content would make too large a page (tables fill in every cell): shorten it.")
    rendered = Rendered(html=safe, excerpt=excerpt_of(safe))
    if source.strip() and not rendered.excerpt and "<hr" not in safe:
        raise UnshowableError("This content shows no text (it may be nested too deeply).")
    return rendered


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


# Letters NFKD does not take apart into a base letter and a mark, spelled as they are in ASCII.
_SPELLED_OUT = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "\u0131": "i",  # dotless i
    }
)


def slugify(title: str) -> str:
    """The title folded to ASCII words joined by hyphens ("Hello, World! Ünïcode" is
    ``hello-world-unicode``); ``post`` when nothing is left; never one of the site's pages."""
    spelled = title.translate(_SPELLED_OUT)
    folded = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", folded.lower()))[:SLUG_LENGTH].strip("-") or "post"
    return f"{slug}-post" if slug in RESERVED_SLUGS else slug
