"""The whole journey in a real Chromium (Debian's package, driven by Playwright), against
`chalice local` servers of all three apps."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import PASSWORD, REPO
from tests.servers import start_chalice_local, stop

# Chromium against all three apps under `chalice local`.
pytestmark = [pytest.mark.browser, pytest.mark.http]

ARTIFACTS = REPO / "tests" / "artifacts"
INSTALL_HINT = "install it with: sudo apt-get install chromium (Debian/Ubuntu), or set CHROMIUM_PATH"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Chromium is required in CI; {INSTALL_HINT}")
    pytest.skip(f"no Chromium on this machine; {INSTALL_HINT}")


@pytest.fixture(scope="module")
def site(api_servers, app_environment, tmp_path_factory) -> Iterator[str]:
    process, base = start_chalice_local(
        "web_frontend", app_environment, tmp_path_factory.mktemp("web") / "web_frontend.log"
    )
    yield base
    stop(process)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium) -> Iterator[object]:
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = chromium.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    yield make
    for context in contexts:
        context.close()


def register_and_log_in(page, site: str, name: str) -> None:
    page.goto(f"{site}/register")
    page.fill("#username", name)
    page.fill("#email", f"{name}@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#confirm_password", PASSWORD)
    page.click("main button[type=submit]")
    assert "You are now able to log in" in page.inner_text(".flash")
    page.fill("#email", f"{name}@example.com")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    assert "You have been logged in!" in page.inner_text(".flash")


def write_post(page, site: str, title: str, content: str) -> None:
    page.goto(f"{site}/posts/new")
    page.fill("#title", title)
    page.fill("#content", content)
    page.click("main form button[type=submit] >> text=Post")
    assert "Your post has been created!" in page.inner_text(".flash")


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(out, "PNG")
    return out.getvalue()


@pytest.mark.slow
def test_the_whole_journey_in_chromium(site, new_page, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    ann, bob = new_page(), new_page(390, 844)  # bob is on a phone
    register_and_log_in(ann, site, "ann")
    register_and_log_in(bob, site, "bob")

    # ann writes, edits, and writes a hostile title that must stay text.
    write_post(ann, site, "My first post", "Hello from a serverless blog.\nSecond line.")
    ann.click("text=My first post")
    post_url = ann.url
    ann.click("text=Update")
    ann.fill("#title", "My first post, edited")
    ann.click("main button[type=submit] >> text=Post")
    assert "Your post has been updated!" in ann.inner_text(".flash")
    hostile = "<script>alert('title')</script><img src=x onerror=alert('img')>"
    write_post(ann, site, hostile, "<script>alert('body')</script>")
    for i in range(6):
        write_post(ann, site, f"Filler post {i}", "Enough posts to need a second page.")

    # bob likes and comments, then follows ann and reads the followed-posts feed.
    bob.goto(post_url)
    bob.click("button >> text=Like (0)")
    bob.wait_for_selector("button >> text=Unlike (1)")  # the form posts, then the page comes back
    bob.fill("#comment", "Great post! <b>not bold</b>")
    bob.click("button >> text=Comment")
    assert "Great post! <b>not bold</b>" in bob.inner_text(".comments")
    bob.click(".comments a.author >> nth=0")  # bob's own page
    bob.goto(f"{site}/users/ann/posts")
    assert "Posts by ann (8)" in bob.inner_text("h1")
    bob.click("button >> text=Follow")
    assert "You followed ann!" in bob.inner_text(".flash")
    bob.goto(f"{site}/")
    bob.click("text=Show followed posts")
    assert "Posts you follow" in bob.inner_text("h1")
    bob.click(".pagination >> text=2")
    bob.wait_for_url("**page=2**")
    bob.wait_for_selector("article.post")

    # Nothing hostile ran anywhere, and it is shown as text.
    ann.goto(f"{site}/?page=2")  # six newer posts pushed it to the second page
    assert hostile in ann.inner_text("main")
    ann.goto(site + ann.locator("h2.post-title a", has_text="<script>").get_attribute("href"))
    assert hostile in ann.inner_text("h1") and "<script>alert('body')</script>" in ann.inner_text(".post-content")
    assert ann.dialogs == [] and bob.dialogs == []

    # ann uploads a picture and sees it.
    ann.goto(f"{site}/account")
    ann.set_input_files("#picture", files=[{"name": "me.png", "mimeType": "image/png", "buffer": png((200, 80, 40))}])
    ann.click("button >> text=Update")
    assert "Your account has been updated!" in ann.inner_text(".flash")
    avatar = ann.locator("img.avatar-large")
    assert "/avatars/" in avatar.get_attribute("src")
    loaded_width = avatar.evaluate(
        "img => img.complete ? img.naturalWidth : new Promise(done => {"
        " img.onload = () => done(img.naturalWidth); img.onerror = () => done(-1); })"
    )
    assert loaded_width == 256, avatar.get_attribute("src")

    # A forged CSRF token is refused and changes nothing.
    ann.goto(f"{site}/posts/new")
    ann.fill("#title", "Forged")
    ann.fill("#content", "Should not exist")
    ann.evaluate("document.querySelector('main form[action=\"/posts/new\"] input[name=csrf_token]').value = 'forged'")
    ann.click("main button[type=submit] >> text=Post")
    assert "did not come from this site" in ann.inner_text("main")
    ann.goto(f"{site}/")
    assert "Forged" not in ann.inner_text("main")

    # Screenshots for people to look at (tests/artifacts/ is ignored by git).
    ann.goto(f"{site}/")
    ann.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    bob.goto(post_url)
    bob.screenshot(path=str(ARTIFACTS / "post-phone.png"), full_page=True)
    ann.goto(post_url)
    ann.screenshot(path=str(ARTIFACTS / "post.png"), full_page=True)

    # ann deletes a post after confirming, then logs out; her old cookie is dead.
    ann.click("text=Delete")
    assert "cannot be undone" in ann.inner_text("main")
    ann.click("button >> text=Delete")
    assert "Your post has been deleted!" in ann.inner_text(".flash")
    cookies = ann.context.cookies()
    session = next(c for c in cookies if c["name"] == "session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    ann.click("button >> text=Logout")
    assert "You have been logged out." in ann.inner_text(".flash")
    ann.context.add_cookies([session])
    ann.goto(f"{site}/account")
    assert re.search(r"/login\?next=", ann.url)
    assert Path(ARTIFACTS / "home.png").stat().st_size > 10_000


@pytest.mark.slow
def test_forgot_password_in_chromium(site, new_page, mail_flow):
    """The reset from the login page to a new password, with the link taken from the mail
    the worker sent through the emulator's SES."""
    from urllib.parse import urlsplit

    ann = new_page()
    register_and_log_in(ann, site, "ann")
    ann.click("button >> text=Logout")
    ann.goto(f"{site}/login")
    ann.click("text=Forgot password?")
    ann.fill("#email", "ann@example.com")
    ann.click("button >> text=Request password reset")
    assert "An email has been sent with instructions" in ann.inner_text(".flash")

    mail_flow.deliver()
    [mail] = [m for m in mail_flow.sent() if m.subject == "Password Reset Request"]
    [link] = [link for link in mail.links if "/reset_password/" in link]
    ann.goto(site + urlsplit(link).path)
    ann.fill("#password", "a brand new passphrase")
    ann.fill("#confirm_password", "a brand new passphrase")
    ann.click("button >> text=Reset password")
    assert "Your password has been updated!" in ann.inner_text(".flash")
    ann.fill("#email", "ann@example.com")
    ann.fill("#password", "a brand new passphrase")
    ann.click("main form button[type=submit]")
    assert "You have been logged in!" in ann.inner_text(".flash")
    ann.goto(site + urlsplit(link).path)  # the link works once
    assert "That is an invalid or expired token" in ann.inner_text(".flash")


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
def test_an_unknown_address_is_the_sites_404_under_chalice_local(site, method):
    import requests

    answer = requests.request(method, f"{site}/no/such/page", timeout=30)
    assert answer.status_code == 404, answer.text[:200]
    assert answer.headers["Content-Type"].startswith("text/html") and "Page not found" in answer.text
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    wrong_method = requests.request(method, f"{site}/about", timeout=30)
    assert wrong_method.status_code == (200 if method == "GET" else 405)
    assert wrong_method.headers["Content-Type"].startswith("text/html")


def axe_violations(page) -> list[str]:
    """What axe-core finds against WCAG 2.2 A and AA on the page as it is now. The script is
    evaluated by the browser's debugging protocol, which the site's CSP does not govern."""
    from devtools import axe

    page.evaluate(axe.script() + "\n;void 0")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", list(axe.WCAG_22_AA))
    return [
        f"{page.url}: {violation['id']} ({violation['help']}) at {[node['target'] for node in violation['nodes']][:3]}"
        for violation in result["violations"]
    ]


def assert_accessible(page) -> None:
    found = axe_violations(page)
    assert found == [], "\n".join(found)


@pytest.mark.slow
def test_write_find_and_follow_a_post_in_chromium(site, new_page):
    """A Markdown post with tags: previewed, published, found by search and its tag page, read
    in the feed; axe checks every page on the way, and the editor and search are used with
    the keyboard alone."""
    from xml.etree import ElementTree

    import requests

    ann = new_page()
    ann.goto(f"{site}/register")
    assert_accessible(ann)
    register_and_log_in(ann, site, "ann")
    assert_accessible(ann)

    # The editor by keyboard: Tab from the title to the body, the tabs, the tags, Enter saves.
    ann.goto(f"{site}/posts/new")
    assert_accessible(ann)
    ann.focus("#title")
    ann.keyboard.type("Running with Markdown")
    focused = []
    for _ in range(3):  # from the title: the Write and Preview tabs, then the text
        ann.keyboard.press("Tab")
        focused.append(ann.evaluate("document.activeElement.id || document.activeElement.textContent"))
    assert focused == ["Write", "Preview", "content"]
    ann.keyboard.type("# Notes\n\nWe went **running** today.\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n")
    ann.keyboard.press("Tab")
    ann.keyboard.type("Sport, markdown")  # the tags field follows the text
    ann.focus("button[value=preview]")
    ann.keyboard.press("Enter")
    preview = ann.locator("section.preview")
    assert "running" in preview.inner_html() and "<strong>running</strong>" in preview.inner_html()
    assert_accessible(ann)
    ann.click("button[value=write]")
    ann.focus("#title")
    ann.keyboard.press("Enter")  # saves (the form's first button), not a redraw
    assert "Your post has been created!" in ann.inner_text(".flash")
    assert_accessible(ann)

    # Found by the search box (keyboard again), then its tag page, then the post.
    ann.focus("#site-search")
    ann.keyboard.type("run")
    ann.keyboard.press("Enter")
    ann.wait_for_url("**/search?q=run")
    assert "Running with Markdown" in ann.inner_text("main") and "<mark>" in ann.inner_html("main")
    assert_accessible(ann)
    ann.click("main a.tag >> text=sport")
    ann.wait_for_url("**/tags/sport")
    assert "Posts tagged sport (1)" in ann.inner_text("h1")
    assert_accessible(ann)
    ann.click("text=Running with Markdown")
    ann.wait_for_url("**/posts/*/running-with-markdown")
    assert ann.locator("h2", has_text="Notes").count() == 1 and ann.locator("td.align-right").count() == 1
    assert_accessible(ann)

    # Read in the feeds: the site's, the tag's (links in the page's head).
    feed_href = ann.get_attribute("link[rel=alternate][type='application/atom+xml'] >> nth=0", "href")
    for path in (feed_href, "/tags/sport/feed.atom", "/users/ann/feed.atom"):
        answer = requests.get(site + path, timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/atom+xml")
        entries = ElementTree.fromstring(answer.content).findall("{http://www.w3.org/2005/Atom}entry")
        assert [e.findtext("{http://www.w3.org/2005/Atom}title") for e in entries] == ["Running with Markdown"]
        assert "<strong>running</strong>" in entries[0].findtext("{http://www.w3.org/2005/Atom}content")


@pytest.mark.slow
def test_every_page_passes_axe(site, new_page):
    """Each page of the site, signed in and out, with axe-core's WCAG 2.2 A/AA rules."""
    ann, visitor = new_page(), new_page(390, 844)
    register_and_log_in(ann, site, "ann")
    write_post(ann, site, "Accessible", "Some *text*.")
    ann.goto(f"{site}/")
    ann.click("text=Accessible")
    post_path = ann.url.removeprefix(site)
    post_id = post_path.split("/")[2]
    ann.fill("#comment", "A comment")
    ann.click("button >> text=Comment")
    signed_in = [
        "/",
        "/?user=ann",
        post_path,
        f"/posts/{post_id}/update",
        f"/posts/{post_id}/delete",
        "/posts/new",
        "/account",
        "/drafts",
        "/drafts?status=scheduled",
        "/users/ann/posts",
        "/logout",
    ]
    signed_out = [
        "/",
        "/about",
        "/login",
        "/register",
        "/reset_password",
        "/reset_password/not-a-token",
        "/search",
        "/search?q=text",
        "/search?q=" + "x" * 300,
        "/tags/nothing",
        "/users/ann/posts",
        post_path,
        "/no/such/page",
        "/unsubscribe/not-a-token",
        "/confirm_email/not-a-token",
    ]
    found = []
    for page, paths in ((ann, signed_in), (visitor, signed_out)):
        for path in paths:
            page.goto(site + path)
            found += axe_violations(page)
    # Forms sent back with their errors.
    visitor.goto(f"{site}/register")
    visitor.click("main button[type=submit]")
    assert visitor.locator(".field-error").count() > 0
    found += axe_violations(visitor)
    ann.goto(f"{site}/posts/new")
    ann.click("main button[type=submit] >> text=Post")
    assert ann.locator(".field-error").count() > 0
    found += axe_violations(ann)
    assert found == [], "\n".join(found)
