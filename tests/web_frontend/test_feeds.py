"""Atom feeds (site, author, tag) with 304s for repeated polls; sitemap, robots.txt and the
tags search engines and link previews read on a post page."""

from __future__ import annotations

import html
import re
import time
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree

import pytest

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def write(browser, title: str, content: str = "Body", tags: str = "", status: str = "published") -> str:
    answer = browser.post("/posts/new", {"title": title, "content": content, "tags": tags, "status": status})
    assert answer.status_code == 303, browser.text()
    location = answer.headers["Location"]
    if location == "/":  # published: the home page shows it first
        location = re.search(r'href="(/posts/\d+/[^"#]+)"', browser.page("/")).group(1)
    return location


def feed(browser, path: str) -> ElementTree.Element:
    answer = browser.request("GET", path)
    assert answer.status_code == 200, (path, answer.status_code)
    assert answer.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    return ElementTree.fromstring(answer.body)


def entry_titles(document: ElementTree.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in document.findall(f"{ATOM}entry")]


def test_feeds_of_the_site_an_author_and_a_tag(browser):
    browser.sign_up("ann")
    write(browser, "First", "Plain words", tags="python")
    write(browser, "Hidden draft", status="draft")
    write(browser, "Second <b>bold</b>", "Some **strong** text and <script>alert(1)</script>", tags="python, web")
    browser.post("/logout")
    browser.sign_up("bob")
    write(browser, "Bob's post")

    site = feed(browser, "/feed.atom")
    assert entry_titles(site) == ["Bob's post", "Second <b>bold</b>", "First"]  # no draft
    assert site.findtext(f"{ATOM}id") == "http://blog.test/feed.atom"
    assert site.find(f"{ATOM}link[@rel='self']").get("href") == "http://blog.test/feed.atom"
    entry = site.findall(f"{ATOM}entry")[1]
    link = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
    assert re.fullmatch(r"http://blog\.test/posts/\d+/second-b-bold-b", link), link
    assert entry.findtext(f"{ATOM}id") == link.rsplit("/", 1)[0]  # stable when the title changes
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "ann"
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["python", "web"]
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<strong>strong</strong>" in content.text and "<script>" not in content.text  # sanitised HTML
    newest = max(e.findtext(f"{ATOM}updated") for e in site.findall(f"{ATOM}entry"))
    assert site.findtext(f"{ATOM}updated") >= newest  # the feed clock: any change anywhere

    assert entry_titles(feed(browser, "/users/ann/feed.atom")) == ["Second <b>bold</b>", "First"]
    assert entry_titles(feed(browser, "/tags/PYTHON/feed.atom")) == ["Second <b>bold</b>", "First"]
    assert entry_titles(feed(browser, "/tags/web/feed.atom")) == ["Second <b>bold</b>"]
    assert browser.request("GET", "/users/nobody/feed.atom").status_code == 404
    assert browser.request("GET", "/tags/unused/feed.atom").status_code == 404
    assert browser.request("GET", "/tags/not_a_tag/feed.atom").status_code == 404


@pytest.mark.slow
def test_at_most_twenty_posts_and_a_repeated_poll_gets_304(browser):
    browser.sign_up("ann")
    for number in range(22):
        write(browser, f"Post {number}")
    fresh = browser.request("GET", "/feed.atom")  # changed this very second: no date yet, ETag only
    assert "Last-Modified" not in fresh.headers and fresh.headers["ETag"]
    stale_date = {"If-Modified-Since": "Sun, 01 Jan 2090 00:00:00 GMT"}
    assert browser.request("GET", "/feed.atom", headers=stale_date).status_code == 200  # ignored without a date
    time.sleep(2.1)
    first = browser.request("GET", "/feed.atom")
    document = ElementTree.fromstring(first.body)
    assert len(entry_titles(document)) == 20 and entry_titles(document)[0] == "Post 21"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, max-age=300"

    again = browser.request("GET", "/feed.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.body and again.headers["ETag"] == etag
    assert browser.request("GET", "/feed.atom", headers={"If-Modified-Since": modified}).status_code == 304
    stale = {"If-None-Match": '"something-else"', "If-Modified-Since": modified}  # the ETag decides
    assert browser.request("GET", "/feed.atom", headers=stale).status_code == 200
    assert browser.request("GET", "/feed.atom", headers={"If-Modified-Since": "not a date"}).status_code == 200

    write(browser, "Newer")
    changed = browser.request("GET", "/feed.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_pages_link_their_feeds(browser):
    browser.sign_up("ann")
    post_path = write(browser, "Linked", tags="news")
    alternate = '<link rel="alternate" type="application/atom+xml"'
    assert f'{alternate} title="Serverless Blog: newest posts" href="/feed.atom">' in browser.page("/")
    assert 'href="/users/ann/feed.atom"' in browser.page("/users/ann/posts")
    assert 'href="/tags/news/feed.atom"' in browser.page("/tags/news")
    assert 'href="/users/ann/feed.atom"' in browser.page(post_path)


def test_a_post_page_tells_search_engines_and_link_previews_about_it(browser):
    browser.sign_up("ann")
    content = 'A *first* paragraph about "quotes" & <tags>.\n\n' + "Long text. " * 40
    post_path = write(browser, 'Say "hello" <now>', content, tags="news")
    page = browser.page(post_path)
    url = f"http://blog.test{post_path}"
    assert f'<link rel="canonical" href="{url}">' in page
    description = re.search(r'<meta name="description" content="([^"]*)">', page).group(1)
    assert html.unescape(description).startswith('A first paragraph about "quotes" & <tags>.')
    assert len(html.unescape(description)) <= 160
    assert f'<meta property="og:url" content="{url}">' in page
    assert '<meta property="og:title" content="Say &#34;hello&#34; &lt;now&gt;">' in page
    assert '<meta property="og:type" content="article">' in page
    assert '<meta name="twitter:card" content="summary">' in page
    assert '<meta property="article:tag" content="news">' in page
    assert 'name="robots"' not in page
    draft = write(browser, "Unfinished", status="draft")
    assert '<meta name="robots" content="noindex">' in browser.page(draft)


def test_the_sitemap_lists_every_public_post_and_user(browser):
    browser.sign_up("ann")
    public = write(browser, "Public")
    write(browser, "Draft", status="draft")
    robots = browser.request("GET", "/robots.txt")
    assert robots.status_code == 200 and robots.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Sitemap: http://blog.test/sitemap.xml" in robots.body.decode()
    assert "Disallow: /account" in robots.body.decode()

    index = ElementTree.fromstring(browser.request("GET", "/sitemap.xml").body)
    parts = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert parts == [
        "http://blog.test/sitemaps/pages.xml",
        "http://blog.test/sitemaps/posts-1.xml",
        "http://blog.test/sitemaps/users-1.xml",
    ]
    addresses = []
    for part in parts:
        answer = browser.request("GET", part.removeprefix("http://blog.test"))
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/xml; charset=utf-8"
        addresses += [loc.text for loc in ElementTree.fromstring(answer.body).iter(f"{SITEMAP}loc")]
    assert addresses == [
        "http://blog.test/",
        "http://blog.test/about",
        f"http://blog.test{public}",
        "http://blog.test/users/ann/posts",
    ]
    for missing in ("/sitemaps/posts-2.xml", "/sitemaps/posts-0.xml", "/sitemaps/other-1.xml", "/sitemaps/posts-x.xml"):
        answer = browser.request("GET", missing)
        assert answer.status_code in (200, 404), missing
    assert browser.request("GET", "/sitemaps/other-1.xml").status_code == 404
    assert browser.request("GET", "/sitemaps/posts-99999999999.xml").status_code == 404


def test_text_xml_cannot_hold_is_refused_and_never_reaches_a_feed(browser, web_app):
    browser.sign_up("ann")
    answer = browser.post("/posts/new", {"title": "Broken \uffff title", "content": "Body", "status": "published"})
    assert answer.status_code == 400 and "U+FFFF" in browser.text()
    # A row from before the rule: the feed replaces what XML cannot hold.
    from devtools.apps import app_module

    feeds = app_module("web_frontend", "chalicelib.pages.feeds")

    post = {
        "url": "http://blog.test/posts/1/x",
        "id": 1,
        "title": "Old \uffff\x0b title",
        "date_posted": "2026-11-26T00:00:00+00:00",
        "updated_at": None,
        "author": {"username": "ann"},
        "tags": [],
        "excerpt": "\ufffe",
        "content_html": "<p>\x01</p>",
    }
    document = feeds.atom_feed([post], "t", "http://blog.test", "/", "/feed.atom", feeds._changed(post))
    entry = ElementTree.fromstring(document).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Old \ufffd\ufffd title"


@pytest.mark.slow
def test_last_modified_never_goes_backwards(browser):
    """It is the later of the feed clock (any post written, deleted or taken back, any author
    renamed) and the newest publication, so a poll with If-Modified-Since alone sees every
    change: here the newest post deleted, and then its author renamed."""
    browser.sign_up("ann")
    write(browser, "Older")
    newest = write(browser, "Newest")
    time.sleep(2.1)  # a date is sent once the feed's second has passed
    first = browser.request("GET", "/feed.atom")
    modified = first.headers["Last-Modified"]
    assert browser.request("GET", "/feed.atom", headers={"If-Modified-Since": modified}).status_code == 304
    post_id = newest.split("/")[2]
    assert browser.post(f"/posts/{post_id}/delete").status_code == 303
    time.sleep(2.1)
    after = browser.request("GET", "/feed.atom", headers={"If-Modified-Since": modified})
    assert after.status_code == 200 and entry_titles(ElementTree.fromstring(after.body)) == ["Older"]
    assert parsedate_to_datetime(after.headers["Last-Modified"]) > parsedate_to_datetime(modified)

    modified = after.headers["Last-Modified"]
    assert browser.post_multipart("/account", {"username": "annie", "email": "ann@example.com"}, {}).status_code == 303
    time.sleep(2.1)
    renamed = browser.request("GET", "/feed.atom", headers={"If-Modified-Since": modified})
    assert renamed.status_code == 200 and b"<name>annie</name>" in renamed.body


def test_head_answers_the_headers_alone(browser):
    browser.sign_up("ann")
    write(browser, "Post", tags="news")
    for path in ("/feed.atom", "/users/ann/feed.atom", "/tags/news/feed.atom", "/sitemap.xml", "/robots.txt"):
        answer = browser.request("HEAD", path)
        assert answer.status_code == 200 and not answer.body, path
        assert answer.headers["Content-Type"].split(";")[0] in ("application/atom+xml", "application/xml", "text/plain")
    etag = browser.request("GET", "/feed.atom").headers["ETag"]
    assert browser.request("HEAD", "/feed.atom", headers={"If-None-Match": etag}).status_code == 304


def test_an_authors_feed_is_one_feed_whatever_the_case_of_its_address(browser):
    browser.sign_up("ann")
    write(browser, "Post")
    document = feed(browser, "/users/ANN/feed.atom")
    assert document.findtext(f"{ATOM}id") == "http://blog.test/users/ann/feed.atom"
    assert document.findtext(f"{ATOM}title").startswith("Posts by ann")
    assert browser.request("GET", "/users/" + "x" * 40 + "/feed.atom").status_code == 404
