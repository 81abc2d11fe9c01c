"""Markdown as a post shows it: rendered once, sanitised, excerpted, given a slug."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import pytest

from tests.helpers import REPO


@pytest.fixture(scope="module")
def writing() -> ModuleType:
    """The module alone (it needs neither the app nor its settings)."""
    spec = importlib.util.spec_from_file_location("post_writing", REPO / "post_api/chalicelib/posts/writing.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_commonmark_with_tables_and_strikethrough(writing):
    source = "# Title\n\nSome **bold**, *italic* and ~~gone~~ `code`.\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n> quoted\n"
    html = writing.render(source).html
    # Headings one level down: a post's page has its title as its one h1.
    for fragment in ("<h2>Title</h2>", "<strong>bold</strong>", "<em>italic</em>", "<s>gone</s>", "<code>code</code>"):
        assert fragment in html
    assert "<table>" in html and "<blockquote>" in html
    assert '<th class="align-right">b</th>' in html and '<td class="align-right">2</td>' in html  # no inline style
    assert "<h6>x</h6>" in writing.render("###### x").html


def test_an_image_is_a_link_to_it(writing):
    html = writing.render('![a cat](https://example.com/cat.png "t") ![](/login/github) ![x](javascript:alert(1))').html
    assert '<a href="https://example.com/cat.png" rel="nofollow ugc noopener">a cat</a>' in html
    assert '<a href="/login/github" rel="nofollow ugc noopener">/login/github</a>' in html  # nothing loads it
    assert "<img" not in html and 'href="javascript' not in html


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("> " * 30 + "deep", "shows no text"),
        ("|" + "a|" * 300 + "\n|" + "-|" * 300 + "\n" + "|\n" * 200, "too large a page"),
    ],
)
def test_content_that_cannot_be_shown_is_refused(writing, source, message):
    with pytest.raises(writing.UnshowableError, match=message):
        writing.render(source)


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe src=https://evil.example></iframe>",
        '<a href="javascript:alert(1)">x</a>',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "<javascript:alert(1)>",
        '<p style="background:url(javascript:alert(1))">styled</p>',
        "<div onclick=alert(1)>raw html</div>",
        '[x](https://example.com "title" onmouseover="alert(1)")',
        "<!-- comment --><b>bold</b>",
        "<form action=https://evil.example><input name=password></form>",
    ],
)
def test_hostile_markdown_leaves_no_way_to_run_code(writing, attack):
    html = writing.render(f"Before.\n\n{attack}\n\nAfter.").html
    tags = re.findall(r"<[a-zA-Z][^>]*>", html)  # real tags (raw HTML in the source is text: &lt;...)
    names = {re.match(r"<(\w+)", tag).group(1).lower() for tag in tags}
    assert names <= writing.TAGS, html
    for tag in tags:
        lowered = tag.lower()
        assert not re.search(r"\son\w+\s*=", lowered), html  # no event handler
        assert not re.search(r"""(href|src)\s*=\s*["']?\s*(javascript|data|vbscript):""", lowered), html
        assert "style=" not in lowered, html
    assert "Before." in html and "After." in html  # the text around survives


def test_raw_html_is_shown_as_text(writing):
    html = writing.render("Press <b>here</b> & there").html
    assert html == "<p>Press &lt;b&gt;here&lt;/b&gt; &amp; there</p>\n"


def test_links_are_marked_as_user_content(writing):
    html = writing.render("[site](https://example.com) and <https://example.org>").html
    assert html.count('rel="nofollow ugc noopener"') == 2
    assert 'href="https://example.com"' in html


def test_the_excerpt_is_plain_text_of_at_most_300_characters(writing):
    rendered = writing.render("# Heading\n\nFirst *para*.\n\n- one\n- two\n\n" + "word " * 200)
    assert rendered.excerpt.startswith("Heading First para. one two word word")
    assert len(rendered.excerpt) <= writing.EXCERPT_LENGTH and rendered.excerpt.endswith("…")
    assert "<" not in rendered.excerpt
    assert writing.render("Fish &amp; <chips>").excerpt == "Fish & <chips>"  # text, escaped by the page


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello, World! Ünïcode", "hello-world-unicode"),
        ("  Ça va? Straße & Smørrebrød  ", "ca-va-strasse-smorrebrod"),
        ("Łódź, Æther, Þór, Œuvre", "lodz-aether-thor-oeuvre"),
        ("日本語のタイトル", "post"),
        ("Update", "update-post"),  # the site's own page under /posts/<id>/
        ("x" * 150, "x" * 80),
    ],
)
def test_slugs_are_ascii_words_from_the_title(writing, title, slug):
    assert writing.slugify(title) == slug


def test_the_sanitiser_alone_strips_what_a_renderer_bug_could_let_through(writing):
    """Raw HTML never reaches it from Markdown; it is the second line, tested on its own."""
    dirty = (
        '<a href="javascript:alert(1)" onclick="alert(2)">a</a><script>alert(3)</script>'
        '<img src="data:image/png;base64,AAAA" onerror="alert(4)"><p style="color:red">p</p>'
        '<a href="https://example.com" rel="opener">b</a><iframe src="https://example.com"></iframe>'
    )
    clean = writing.sanitise(dirty)
    assert clean == (
        '<a rel="nofollow ugc noopener">a</a><p>p</p><a href="https://example.com" rel="nofollow ugc noopener">b</a>'
    )
    cells = writing.sanitise(
        '<table><tr><td class="align-right" style="color:red">1</td><td class="x">2</td></tr></table>'
    )
    assert '<td class="align-right">1</td><td class="">2</td>' in cells  # no other class, no style
