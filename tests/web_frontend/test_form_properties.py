"""Property tests of the site's input edges (the web forms have no OpenAPI description for
schemathesis to read): whatever a form field, a query value, a path segment or a cookie
holds, the site answers one of its own pages or a redirect, never a 5xx. Hypothesis draws
the values with a fixed seed (``derandomize``), so a run is repeatable."""

from __future__ import annotations

from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.http, pytest.mark.slow]

# Each property reuses one logged-in browser across its examples (a function-scoped fixture).
EXAMPLES = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# Any text a browser can send (no lone surrogates: they have no UTF-8), weighted toward the
# troublemakers: NUL and other controls, line breaks, Unicode digits, very long runs.
hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["\x00", "a\x00b", "\r\n", "²", "٣", "9" * 4301, "ä" * 3000, "\u202e", "%00", "' OR 1=1 --"]),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=8),
)
# Raw bytes percent-encoded into a form body: invalid UTF-8 included.
hostile_bytes = st.binary(max_size=40)


def assert_ours(response, *allowed: int) -> None:
    assert response.status_code < 500, (response.status_code, (response.body or b"")[:300])
    assert response.status_code in allowed, (response.status_code, (response.body or b"")[:300])
    if response.status_code not in (301, 303):
        assert b"<main" in (response.body or b""), (response.body or b"")[:300]


@given(username=hostile_text, email=hostile_text, password=hostile_text)
@EXAMPLES
def test_the_register_form_takes_any_text(browser, username, email, password):
    response = browser.post(
        "/register", {"username": username, "email": email, "password": password, "confirm_password": password}
    )
    assert_ours(response, 303, 400, 429)
    browser.cookies.pop("session", None)  # a successful sign-up does not log in: nothing to undo


@given(email=hostile_text, password=hostile_text)
@EXAMPLES
def test_the_login_and_reset_forms_take_any_text(browser, email, password):
    assert_ours(browser.post("/login", {"email": email, "password": password}), 200, 303, 429)
    assert_ours(browser.post("/reset_password", {"email": email}), 303, 400, 429)


@given(title=hostile_text, content=hostile_text, comment=hostile_text)
@EXAMPLES
def test_the_post_and_comment_forms_take_any_text(writer, title, content, comment):
    assert_ours(writer.post("/posts/new", {"title": title, "content": content}), 303, 400, 429)
    assert_ours(writer.post("/posts/1/comments", {"comment": comment}), 303, 400, 429)
    assert_ours(writer.post("/posts/1/update", {"title": title, "content": content}), 303, 400)


@given(raw=hostile_bytes, field=st.sampled_from(["title", "content", "csrf_token", "email", "x"]))
@EXAMPLES
def test_a_form_body_of_any_bytes_is_refused_cleanly(writer, raw, field):
    body = f"csrf_token={writer.csrf()}&title=t&content=c&{field}={quote_from_bytes(raw)}"
    assert_ours(writer.request("POST", "/posts/new", body, FORM), 303, 400, 403, 429)


@given(value=hostile_text, name=st.sampled_from(["page", "after", "user", "comments", "next"]))
@EXAMPLES
def test_any_query_value_gets_a_page(writer, value, name):
    for path in ("/", "/users/writer/posts", "/posts/1/first", "/login"):
        assert_ours(writer.get(f"{path}?{name}={quote(value)}"), 200, 303, 400, 403, 404)
    moved = writer.request("GET", f"/posts/1?{name}={quote(value)}")  # to the post's canonical page
    assert moved.status_code == 301 and moved.headers["Location"].startswith("/posts/1/first")


@given(segment=hostile_text.filter(lambda s: s not in ("", ".", "..")))
@EXAMPLES
def test_any_path_segment_gets_a_page(writer, segment):
    part = quote(segment, safe="")
    for path in (f"/posts/{part}", f"/users/{part}/posts", f"/posts/{part}/update", f"/{part}", f"/static/{part}"):
        assert_ours(writer.get(path), 200, 303, 400, 403, 404)
    other_slug = writer.request("GET", f"/posts/1/{part}")  # another slug, or one of the post's own pages
    assert_ours(other_slug, 200, 301, 404, 405)
    if other_slug.status_code == 301:
        assert other_slug.headers["Location"] == "/posts/1/first"  # never anywhere else


@given(session=hostile_text, csrf=hostile_text, flash=hostile_text)
@EXAMPLES
def test_any_cookie_values_get_a_page(browser, session, csrf, flash):
    jar = {"session": session, "csrf": csrf, "flash": flash}
    cookie = "; ".join(f"{name}={quote(value, safe='')}" for name, value in jar.items())
    assert_ours(browser.client.http.get("/", headers={"Cookie": cookie}), 200)
    response = browser.client.http.post(
        "/posts/new", headers={"Cookie": cookie, **FORM}, body=f"csrf_token={quote(csrf, safe='')}&title=a&content=b"
    )
    assert_ours(response, 303, 403)


@pytest.fixture
def writer(browser):
    """A logged-in browser with one post (id 1) to comment on and update."""
    browser.sign_up("writer")
    assert browser.post("/posts/new", {"title": "First", "content": "Post"}).status_code == 303
    return browser
