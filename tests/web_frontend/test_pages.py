"""Every page and action of the web frontend, in-process, against the real APIs and database."""

from __future__ import annotations

import html
import io
import logging
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from markupsafe import escape
from PIL import Image

from blog_shared.config import get_settings
from tests.helpers import PASSWORD, Browser, seed_comments, seed_posts

# The web frontend calls user_api and post_api served by `chalice local` (api_servers).
pytestmark = pytest.mark.http

# -- layout, headers, static files -----------------------------------------------------------------


def test_home_page_has_security_headers_and_a_csrf_cookie(browser):
    response = browser.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("csrf=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "<script" not in browser.text()
    assert browser.get("/home").status_code == 200


def test_about_and_static_assets(browser):
    browser.get("/about")
    assert "About this blog" in browser.text()
    css = browser.get("/static/style.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "max-age" in css.headers["Cache-Control"]
    for sneaky in ("/static/..%2Fapp.py", "/static/..%2F..%2Fapp.py", "/static/%2E%2E%2Fweb.py"):
        assert browser.get(sneaky).status_code == 404
        assert b"import" not in browser.last.body
    assert browser.get("/static/nothing.css").status_code == 404


# -- register, login, logout -------------------------------------------------------------------------


def test_register_then_log_in_then_log_out(browser):
    response = browser.register("ann")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    page = browser.follow_redirect()
    assert "Your account has been created! You are now able to log in." in browser.text()
    assert page.status_code == 200
    assert browser.login("ann").status_code == 303
    home = browser.follow_redirect()
    assert home.status_code == 200 and "You have been logged in!" in browser.text()
    assert 'href="/account"' in browser.text() and "ann" in browser.text()
    session = browser.cookies["session"]
    assert browser.post("/logout").status_code == 303
    assert "session" not in browser.cookies
    browser.follow_redirect()
    assert "You have been logged out." in browser.text() and 'href="/login"' in browser.text()
    # The old cookie is useless now: the token was revoked at user_api.
    browser.cookies["session"] = session
    browser.get("/account")
    assert browser.last.status_code == 303 and browser.last.headers["Location"].startswith("/login")


def test_session_cookie_flags_and_remember_me(browser):
    browser.register("ann")
    browser.login("ann")
    plain = browser.last.headers["Set-Cookie"]
    plain = plain if isinstance(plain, str) else next(c for c in plain if c.startswith("session="))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Max-Age" not in plain
    browser.post("/logout")
    browser.login("ann", remember=True)
    cookie = browser.last.headers["Set-Cookie"]
    cookie = cookie if isinstance(cookie, str) else next(c for c in cookie if c.startswith("session="))
    assert "Max-Age=2592000" in cookie


def test_register_errors(browser):
    browser.register("ann")
    taken = browser.register("ann")
    assert taken.status_code == 400 and "This username has been taken." in browser.text()
    mismatch = browser.post(
        "/register",
        {"username": "bob", "email": "bob@example.com", "password": "x" * 10, "confirm_password": "y" * 10},
    )
    assert mismatch.status_code == 400 and "Field must be equal to password." in browser.text()
    short = browser.post("/register", {"username": "b", "email": "nope", "password": "x", "confirm_password": "x"})
    assert short.status_code == 400 and "field-error" in browser.text()


def test_wrong_login_shows_the_originals_message(browser):
    browser.register("ann")
    response = browser.post("/login", {"email": "ann@example.com", "password": "wrong password"})
    assert response.status_code == 200
    assert "Login Unsuccessful. Please check email and password" in browser.text()
    assert "session" not in browser.cookies


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/posts/new", "/posts/new"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_next_only_redirects_within_the_site(browser, next_value, expected):
    from urllib.parse import quote

    browser.register("ann")
    browser.get(f"/login?next={quote(next_value)}")
    response = browser.post(f"/login?next={quote(next_value)}", {"email": "ann@example.com", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_pages_that_need_a_login_send_you_there_and_back(browser):
    response = browser.get("/posts/new")
    assert response.status_code == 303 and response.headers["Location"] == "/login?next=%2Fposts%2Fnew"
    browser.register("ann")
    browser.post("/login?next=%2Fposts%2Fnew", {"email": "ann@example.com", "password": PASSWORD})
    assert browser.last.headers["Location"] == "/posts/new"


# -- CSRF ------------------------------------------------------------------------------------------


def test_a_missing_or_wrong_csrf_token_is_refused_and_changes_nothing(browser):
    browser.sign_up("ann")
    for token in ("", "0" * 64, "not-a-token"):
        response = browser.post("/posts/new", {"title": "Sneaky", "content": "CSRF"}, csrf=token)
        assert response.status_code == 403
        assert "did not come from this site" in browser.text()
    browser.get("/")
    assert "Sneaky" not in browser.text()
    # A token from another visitor's cookie does not work either.
    other = browser.csrf()
    browser.cookies["csrf"] = "someone-elses-seed"
    assert browser.post("/logout", csrf=other).status_code == 403


# -- posts -----------------------------------------------------------------------------------------


def write_post(browser: Browser, title: str, content: str = "Some content") -> int:
    response = browser.post("/posts/new", {"title": title, "content": content})
    assert response.status_code == 303, browser.text()
    browser.follow_redirect()
    match = re.search(rf'<a href="/posts/(\d+)/[a-z0-9-]+">{re.escape(str(escape(title)))}</a>', browser.text())
    assert match, browser.text()
    return int(match.group(1))


@pytest.mark.slow
def test_write_read_update_and_delete_a_post(browser):
    browser.sign_up("ann")
    browser.get("/posts/new")
    assert "New Post" in browser.text()
    invalid = browser.post("/posts/new", {"title": "", "content": ""})
    assert invalid.status_code == 400 and "field-error" in browser.text()
    post_id = write_post(browser, "Hello world", "First post")
    assert "Your post has been created!" in browser.text()
    page = browser.get(f"/posts/{post_id}")
    assert page.status_code == 200 and "First post" in browser.text()
    assert f'href="/posts/{post_id}/update"' in browser.text()
    browser.get(f"/posts/{post_id}/update")
    assert 'value="Hello world"' in browser.text()
    browser.post(f"/posts/{post_id}/update", {"title": "Hello again", "content": "Edited"})
    assert browser.last.headers["Location"] == f"/posts/{post_id}/hello-again"  # the new title's slug
    browser.follow_redirect()
    assert "Your post has been updated!" in browser.text() and "Hello again" in browser.text()
    confirm = browser.get(f"/posts/{post_id}/delete")
    assert confirm.status_code == 200 and "cannot be undone" in browser.text()
    browser.post(f"/posts/{post_id}/delete")
    browser.follow_redirect()
    assert "Your post has been deleted!" in browser.text()
    assert browser.get(f"/posts/{post_id}").status_code == 404
    assert "Page not found" in browser.text()


@pytest.mark.slow
def test_only_the_author_updates_or_deletes(browser, second_browser):
    browser.sign_up("ann")
    post_id = write_post(browser, "Ann's post")
    second_browser.sign_up("bob")
    for path in (f"/posts/{post_id}/update", f"/posts/{post_id}/delete"):
        assert second_browser.get(path).status_code == 403
        assert "Only the author of the post can operate on it." in second_browser.text()
        assert second_browser.post(path, {"title": "x", "content": "y"}).status_code == 403
    second_browser.get(f"/posts/{post_id}")
    assert "Ann&#39;s post" in second_browser.text() and "/update" not in second_browser.text()


@pytest.mark.slow
def test_like_unlike_and_comments(browser, second_browser):
    browser.sign_up("ann")
    post_id = write_post(browser, "Likeable")
    second_browser.sign_up("bob")
    second_browser.post(f"/posts/{post_id}/like")
    second_browser.follow_redirect()
    assert "Unlike (1)" in second_browser.text()
    second_browser.post(f"/posts/{post_id}/like")  # twice is still one like
    second_browser.follow_redirect()
    assert "Unlike (1)" in second_browser.text()
    second_browser.post(f"/posts/{post_id}/unlike")
    second_browser.follow_redirect()
    assert "Like (0)" in second_browser.text()
    empty = second_browser.post(f"/posts/{post_id}/comments", {"comment": "  "})
    assert empty.status_code == 400 and "field-error" in second_browser.text()
    second_browser.post(f"/posts/{post_id}/comments", {"comment": "Nice post!"})
    second_browser.follow_redirect()
    assert "Nice post!" in second_browser.text()
    comment_id = re.search(r"/comments/(\d+)/delete", second_browser.text()).group(1)
    # The post's author may delete it too; someone else may not.
    browser.post(f"/posts/{post_id}/comments/{comment_id}/delete")
    browser.follow_redirect()
    assert "The comment has been deleted." in browser.text() and "Nice post!" not in browser.text()


def test_script_in_posts_and_comments_is_shown_as_text(browser):
    browser.sign_up("ann")
    evil = '<script>alert("x")</script>'
    browser.post("/posts/new", {"title": evil, "content": f"<img src=x onerror=alert(1)> {evil}"})
    browser.follow_redirect()
    post_id = re.search(r'href="/posts/(\d+)/', browser.text()).group(1)
    browser.post(f"/posts/{post_id}/comments", {"comment": evil})
    for path in ("/", f"/posts/{post_id}"):
        browser.get(path)
        assert "<script>alert" not in browser.text()
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in browser.text()
        assert "<img src=x" not in browser.text()


# -- users, following, feed, pagination -------------------------------------------------------------


@pytest.mark.slow
def test_user_page_follow_unfollow_and_followed_feed(browser, second_browser):
    browser.sign_up("ann")
    write_post(browser, "By ann")
    second_browser.sign_up("bob")
    write_post(second_browser, "By bob")
    page = browser.get("/users/bob/posts")
    assert page.status_code == 200 and "Posts by bob (1)" in browser.text()
    assert ">Follow</button>" in browser.text()
    browser.post("/users/bob/follow")
    browser.follow_redirect()
    assert "You followed bob!" in browser.text() and ">Unfollow</button>" in browser.text()
    assert "<strong>1</strong> followers" in browser.text()
    feed = browser.get("/?user=ann")
    assert feed.status_code == 200 and "By bob" in browser.text() and "By ann" in browser.text()
    assert browser.get("/?user=bob").status_code == 403
    browser.post("/users/bob/unfollow")
    browser.follow_redirect()
    assert "You unfollowed bob." in browser.text()
    browser.get("/?user=ann")
    assert "By bob" not in browser.text()
    assert browser.get("/users/nobody/posts").status_code == 404


def test_anonymous_feed_link_goes_to_login(browser):
    response = browser.get("/?user=ann")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


@pytest.mark.slow
def test_home_pagination_works_on_every_page(browser):
    browser.sign_up("ann")
    for i in range(23):
        browser.post("/posts/new", {"title": f"Post number {i}", "content": "x"})
    browser.get("/")
    assert "Post number 22" in browser.text() and "Post number 17" not in browser.text()
    assert 'aria-current="page">1<' in browser.text()
    assert 'href="/?page=5"' in browser.text()
    for page in range(2, 6):
        response = browser.get(f"/?page={page}")
        assert response.status_code == 200
        assert f'aria-current="page">{page}<' in browser.text()
    assert "Post number 0" in browser.text()
    browser.get("/?page=3")
    assert "…" in browser.text() or 'href="/?page=1"' in browser.text()
    past = browser.get("/?page=40")
    assert past.status_code == 200 and "There are no posts on this page." in browser.text()
    assert browser.get("/?page=abc").status_code == 200


def test_past_the_numbered_pages_older_posts_follow_by_cursor(browser, database_url):
    browser.sign_up("ann")
    seed_posts(database_url, {1: 510})  # 102 pages of 5
    browser.get("/?page=3")
    assert 'href="/?page=100"' in browser.text() and "Older posts" not in browser.text()
    browser.get("/?page=100")
    assert "post 11<" in browser.text() and "post 15<" in browser.text()
    older = re.search(r'href="(/\?after=[^"]+)">Older posts', browser.text()).group(1)
    browser.get(html.unescape(older))
    assert "post 10<" in browser.text() and "post 6<" in browser.text() and "Newest posts" in browser.text()
    last = re.search(r'href="(/\?after=[^"]+)">Older posts', browser.text()).group(1)
    browser.get(html.unescape(last))
    assert "post 5<" in browser.text() and "post 1<" in browser.text() and "Older posts" not in browser.text()


def test_a_post_page_shows_its_newest_comments_and_links_to_older_ones(browser, database_url):
    browser.sign_up("ann")
    post_id = write_post(browser, "Talked about")
    seed_comments(database_url, int(post_id), 1, 25)
    browser.get(f"/posts/{post_id}")
    assert "Comments (25)" in browser.text()
    assert "25 x" in browser.text() and "6 x" in browser.text() and ">5 x" not in browser.text()
    older = re.search(r'href="([^"]+)#comments">Older comments', browser.text()).group(1)
    browser.get(html.unescape(older))
    assert ">5 x" in browser.text() and ">1 x" in browser.text() and "25 x" not in browser.text()
    assert "Newest comments" in browser.text() and "Older comments" not in browser.text()


# -- account and avatar -------------------------------------------------------------------------------


def _png(size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_account_page_updates_username_and_email(browser):
    browser.sign_up("ann")
    page = browser.get("/account")
    assert page.status_code == 200 and "ann@example.com" in browser.text() and "followers" in browser.text()
    browser.post_multipart("/account", {"username": "annie", "email": "ann@example.com"}, {})
    browser.follow_redirect()
    assert "Your account has been updated!" in browser.text() and ">annie<" in browser.text()
    # A new address needs the current password, and takes effect from the link mailed to it.
    refused = browser.post_multipart("/account", {"username": "annie", "email": "annie@example.com"}, {})
    assert refused.status_code == 400 and "current password" in browser.text()
    browser.post_multipart(
        "/account", {"username": "annie", "email": "annie@example.com", "current_password": PASSWORD}, {}
    )
    browser.follow_redirect()
    assert "We sent a link to annie@example.com" in browser.text()
    assert "ann@example.com" in browser.text()  # until the link is opened


def test_avatar_upload_is_resized_and_stored_in_s3(browser):
    browser.sign_up("ann")
    response = browser.post_multipart(
        "/account", {"username": "ann", "email": "ann@example.com"}, {"picture": ("me.png", _png(), "image/png")}
    )
    assert response.status_code == 303, browser.text()
    browser.follow_redirect()
    settings = get_settings()
    match = re.search(r'src="(' + re.escape(settings.avatar_base_url) + r'/(avatars/[^"]+))"', browser.text())
    assert match, browser.text()
    s3 = boto3.client("s3", endpoint_url=settings.aws_endpoint_url, region_name="us-east-1")
    stored = s3.get_object(Bucket=settings.avatar_bucket, Key=match.group(2))
    assert stored["ContentType"] == "image/jpeg"
    assert Image.open(io.BytesIO(stored["Body"].read())).size == (256, 256)
    # A new picture replaces the old one, which is deleted.
    browser.post_multipart(
        "/account",
        {"username": "ann", "email": "ann@example.com"},
        {"picture": ("again.png", _png((300, 900)), "image/png")},
    )
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=settings.avatar_bucket).get("Contents", [])]
    assert match.group(2) not in keys


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("notes.png", b"this is not a picture", "not a picture we can read"),
        ("huge.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 10), "larger than 2 MB"),
    ],
)
def test_bad_uploads_get_a_form_message(browser, filename, content, message):
    browser.sign_up("ann")
    response = browser.post_multipart(
        "/account", {"username": "ann", "email": "ann@example.com"}, {"picture": (filename, content, "image/png")}
    )
    assert response.status_code == 400  # the form again, with its message
    assert message in browser.text()


def test_a_gif_is_refused_by_its_content_whatever_its_name(browser):
    browser.sign_up("ann")
    out = io.BytesIO()
    Image.new("RGB", (50, 50)).save(out, "GIF")
    browser.post_multipart("/account", {}, {"picture": ("looks.png", out.getvalue(), "image/png")})
    assert "Please upload a JPEG, PNG or WebP picture." in browser.text()


# -- errors ----------------------------------------------------------------------------------------


def test_missing_things_are_404_pages(browser):
    assert browser.get("/posts/424242").status_code == 404
    assert "Page not found" in browser.text() and "<nav" in browser.text()
    assert browser.get("/posts/abc").status_code == 404


def test_an_api_that_is_down_gives_a_friendly_503(browser, monkeypatch):
    monkeypatch.setenv("POST_API_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    try:
        response = browser.get("/")
        assert response.status_code == 503
        assert "We&#39;ll be right back" in browser.text()
        assert "Traceback" not in browser.text()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_flash_messages_show_once(browser):
    browser.register("ann")
    browser.follow_redirect()
    assert "Your account has been created!" in browser.text()
    browser.get("/about")
    assert "Your account has been created!" not in browser.text()


def test_logout_by_get_only_asks(browser):
    browser.sign_up("ann")
    page = browser.get("/logout")
    assert page.status_code == 200 and "Log out?" in browser.text()
    assert "session" in browser.cookies
    browser.get("/account")
    assert browser.last.status_code == 200


def test_an_unexpected_error_is_a_500_page_in_the_layout(browser, monkeypatch, caplog):
    from tests.helpers import app_module

    main = app_module("web_frontend", "chalicelib.pages.main")

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(main, "render", broken)
    with caplog.at_level(logging.ERROR):
        response = browser.get("/about")
    assert response.status_code == 500
    assert "Something went wrong" in browser.text() and "<nav" in browser.text()
    assert "RuntimeError" not in browser.text() and "a bug" not in browser.text()
    reference = response.headers["X-Request-Id"]
    assert f"<code>{reference}</code>" in browser.text()
    assert response.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in response.headers
    assert any(reference in record.getMessage() for record in caplog.records)


def test_a_field_sent_as_a_file_is_ignored_not_a_500(browser):
    browser.sign_up("ann")
    token = browser.csrf()
    response = browser.post_multipart(
        "/posts/new", {"title": "t", "content": "c"}, {"csrf_token": ("x", token.encode(), "text/plain")}, False
    )
    assert response.status_code == 403


def test_a_csrf_token_belongs_to_its_session(browser):
    browser.register("ann")
    browser.get("/login")
    anonymous_token = browser.csrf()
    browser.login("ann")
    assert browser.post("/posts/new", {"title": "t", "content": "c"}, csrf=anonymous_token).status_code == 403
    assert browser.post("/posts/new", {"title": "t", "content": "c"}).status_code == 303


def test_a_huge_picture_in_a_small_file_is_refused(browser):
    browser.sign_up("ann")
    out = io.BytesIO()
    Image.new("1", (6000, 6000)).save(out, "PNG")  # a few KB, 36 megapixels
    assert len(out.getvalue()) < 200_000
    browser.post_multipart("/account", {}, {"picture": ("bomb.png", out.getvalue(), "image/png")})
    assert "too many pixels" in browser.text()


@pytest.mark.parametrize(
    "path",
    [
        "/nothing",
        "/no/such/page",
        "/posts/1/extra/parts",
        "/static/a/b",
        "/static/" + "9" * 4301,
        "/static/..%2fapp.py",
    ],
)
def test_an_unknown_address_is_the_sites_404_page(browser, path):
    response = browser.get(path)
    assert response.status_code == 404
    assert "Page not found" in browser.text() and "<nav" in browser.text()


# -- Markdown, addresses, the editor's preview ----------------------------------------------------------


def test_a_post_lives_at_its_slug_and_short_or_old_addresses_move_there(browser):
    browser.sign_up("ann")
    post_id = write_post(browser, "Hello, World! Ünïcode", "Some **bold** text")
    moved = browser.request("GET", f"/posts/{post_id}?comments=abc")
    assert moved.status_code == 301 and moved.headers["Cache-Control"] == "no-cache"  # titles change back
    assert moved.headers["Location"] == f"/posts/{post_id}/hello-world-unicode?comments=abc"
    padded = browser.request("GET", f"/posts/00{post_id}/hello-world-unicode")
    assert padded.status_code == 301 and padded.headers["Location"] == f"/posts/{post_id}/hello-world-unicode"
    page = browser.request("GET", f"/posts/{post_id}/hello-world-unicode")
    assert page.status_code == 200 and "<strong>bold</strong>" in browser.text()
    browser.post(f"/posts/{post_id}/update", {"title": "Renamed", "content": "Some **bold** text", "mode": "save"})
    assert browser.last.headers["Location"] == f"/posts/{post_id}/renamed"
    old = browser.request("GET", f"/posts/{post_id}/hello-world-unicode")  # links out there keep working
    assert old.status_code == 301 and old.headers["Location"] == f"/posts/{post_id}/renamed"
    assert browser.request("GET", "/posts/999999/anything").status_code == 404


def test_the_editor_previews_markdown_without_saving(browser):
    browser.sign_up("ann")
    browser.get("/posts/new")
    assert 'name="mode" value="preview"' in browser.text() and 'aria-current="true">Write' in browser.text()
    source = "# Plan\n\n- [x](https://example.com)\n\n<script>alert(1)</script>"
    preview = browser.post("/posts/new", {"title": "Draft title", "content": source, "mode": "preview"})
    assert preview.status_code == 200
    text = browser.text()
    assert '<section class="preview post-content" aria-label="Preview"><h2>Plan</h2>' in text
    assert "<script>alert" not in text and 'aria-current="true">Preview' in text
    assert 'value="Draft title"' in text and "# Plan" in text  # the source is kept, hidden, for Write and Post
    assert "No posts yet" in browser.page("/")  # nothing was saved
    back = browser.post("/posts/new", {"title": "Draft title", "content": source, "mode": "write"})
    assert back.status_code == 200 and "<textarea" in browser.text() and "preview post-content" not in browser.text()
    saved = browser.post("/posts/new", {"title": "Draft title", "content": source, "mode": "save"})
    assert saved.status_code == 303 and "Draft title" in browser.page("/")


def test_tags_from_the_editor_to_the_tag_page(browser):
    browser.sign_up("ann")
    browser.post("/posts/new", {"title": "Tagged", "content": "Body", "tags": "Python, web-dev  news", "mode": "save"})
    browser.post("/posts/new", {"title": "Untagged", "content": "Body", "mode": "save"})
    home = browser.page("/")
    assert '<a class="tag" href="/tags/python">python</a>' in home and "/tags/web-dev" in home
    page = browser.page("/tags/PYTHON")
    assert 'Posts tagged <span class="tag">python</span> (1)' in page
    assert "Tagged</a>" in page and "Untagged" not in page
    post_id = re.search(r'href="/posts/(\d+)/tagged"', page).group(1)
    browser.get(f"/posts/{post_id}/update")
    assert 'name="tags" type="text" value="python, web-dev, news"' in browser.text()
    refused = browser.post(f"/posts/{post_id}/update", {"title": "Tagged", "content": "Body", "tags": "bad_tag"})
    assert refused.status_code == 400 and "A tag is 1 to 30 letters, digits or hyphens." in browser.text()
    assert browser.request("GET", "/tags/not%20a%20tag").status_code == 404
    assert browser.request("GET", "/tags/nothing-here").status_code == 404  # not an empty page for crawlers
    assert "No posts carry this tag." in browser.text()


def test_the_search_box_finds_posts_and_any_query_gets_a_page(browser):
    browser.sign_up("ann")
    browser.post("/posts/new", {"title": "Running notes", "content": "We ran <b>far</b> today.", "mode": "save"})
    browser.post("/posts/new", {"title": "Soup", "content": "Hot.", "mode": "save"})
    home = browser.page("/")
    assert '<form class="nav-search" role="search" method="get" action="/search">' in home
    assert '<label for="site-search" class="visually-hidden">Search posts</label>' in home
    results = browser.page("/search?q=run")
    assert "Posts matching “run” (1)" in results and "Running notes</a>" in results and "Soup" not in results
    assert 'value="run"' in results  # the box keeps the words
    found = browser.page("/search?q=today")
    assert re.search(r"<p class=\"post-excerpt search-highlight\">[^<]*<mark>today</mark>", found), found
    assert "Type words in the search box" in browser.page("/search")
    for hostile in ("%22", "%26%7C%21%28%29%3A%2A", "%3Cscript%3E", "x" * 250, "%00", "the"):
        answer = browser.request("GET", f"/search?q={hostile}")
        assert answer.status_code in (200, 400), (hostile, answer.status_code)
        assert "<script>" not in browser.text()


def test_drafts_and_scheduled_posts_from_the_editor(browser):
    browser.sign_up("ann")
    editor = browser.page("/posts/new")
    assert 'name="status" value="published" checked' in editor and 'type="datetime-local"' in editor
    saved = browser.post("/posts/new", {"title": "Half done", "content": "Body", "status": "draft", "mode": "save"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/half-done")
    assert "Your draft has been saved" in browser.page(saved.headers["Location"])
    assert '<span class="badge">Draft</span>' in browser.text()
    assert "No posts yet" in browser.page("/")  # not public
    drafts = browser.page("/drafts")
    assert "Drafts (1)" in drafts and "Half done</a>" in drafts

    when = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    local = when.strftime("%Y-%m-%dT%H:%M")
    body = {"title": "Later", "content": "Body", "status": "scheduled", "publish_at": local, "mode": "save"}
    scheduled = browser.post("/posts/new", body)
    assert scheduled.status_code == 303
    assert f"Your post will be published on {when.strftime('%B %-d, %Y at %H:%M UTC')}." in browser.page(
        scheduled.headers["Location"]
    )
    listing = browser.page("/drafts?status=scheduled")
    assert "Scheduled posts (1)" in listing and "Scheduled for" in listing and "Later</a>" in listing
    post_id = re.search(r'href="/posts/(\d+)/later"', listing).group(1)
    assert f'value="{local}"' in browser.page(f"/posts/{post_id}/update")

    # A schedule in the past or without a time is refused on the form.
    refused = browser.post("/posts/new", {**body, "publish_at": "2020-01-01T10:00"})
    assert refused.status_code == 400 and "publish_at is a time in the future, within a year." in browser.text()
    refused = browser.post("/posts/new", {**body, "publish_at": ""})
    assert refused.status_code == 400 and 'class="field-error"' in browser.text()

    # Publishing the draft from its editor puts it on the home page.
    draft_id = re.search(r"/posts/(\d+)/", saved.headers["Location"]).group(1)
    browser.post(f"/posts/{draft_id}/update", {"title": "Half done", "content": "Body", "status": "published"})
    assert "Half done</a>" in browser.page("/") and "Later" not in browser.page("/")

    # Someone else finds neither.
    browser.post("/logout")
    browser.sign_up("bob")
    assert browser.request("GET", f"/posts/{post_id}/later").status_code == 404
    assert "You have no drafts." in browser.page("/drafts")


def test_resaving_a_scheduled_post_keeps_its_time_to_the_second(browser):
    browser.sign_up("ann")
    api_time = (datetime.now(UTC) + timedelta(seconds=50)).replace(microsecond=0)  # in its last minute
    local = api_time.strftime("%Y-%m-%dT%H:%M")
    body = {"title": "Soon", "content": "Body", "status": "scheduled", "publish_at": local, "mode": "save"}
    if api_time.replace(second=0) <= datetime.now(UTC):  # the form's minute is already past: schedule via a later one
        api_time = api_time.replace(second=0) + timedelta(minutes=1)
        body["publish_at"] = api_time.strftime("%Y-%m-%dT%H:%M")
    saved = browser.post("/posts/new", body)
    assert saved.status_code == 303, browser.text()
    post_id = re.search(r"/posts/(\d+)/", saved.headers["Location"]).group(1)
    editor = browser.page(f"/posts/{post_id}/update")
    shown = re.search(r'name="publish_at" type="datetime-local" value="([^"]*)"', editor).group(1)
    fixed = browser.post(f"/posts/{post_id}/update", {**body, "content": "Typo fixed", "publish_at": shown})
    assert fixed.status_code == 303, browser.text()
    assert "Your post will be published on" in browser.page(fixed.headers["Location"])


def test_the_author_pages_back_through_the_comments_of_a_draft(browser, database_url):
    from sqlalchemy import create_engine, text

    browser.sign_up("ann")
    saved = browser.post("/posts/new", {"title": "Notes", "content": "Body", "status": "draft", "mode": "save"})
    path = saved.headers["Location"]
    post_id = path.split("/")[2]
    engine = create_engine(database_url)  # more comments than a page (and than the rate limit allows)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO comments (post_id, user_id, text, date_posted) SELECT :p, user_id, 'note ' || n,"
                " now() - n * interval '1 minute' FROM posts, generate_series(0, 21) AS n WHERE id = :p"
            ),
            {"p": int(post_id)},
        )
    engine.dispose()
    page = browser.page(path)
    older = re.search(r'href="([^"]*\?comments=[^"#]*)', page).group(1)
    answer = browser.request("GET", html.unescape(older))
    assert answer.status_code == 200 and "note 21" in browser.text()
