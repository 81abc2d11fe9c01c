"""Hostile input on the site: each example gets a page (the form with its message, or the
site's own 4xx page), never a 500. (The web frontend in-process, over the APIs served by
`chalice local`.)"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

pytestmark = pytest.mark.http


def png_with_corrupt_exif() -> bytes:
    """A valid PNG carrying an eXIf chunk that is not TIFF (Pillow raises SyntaxError on it)."""
    out = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 20, 30)).save(out, "PNG")
    png = out.getvalue()
    data = b"\xff" * 30
    chunk = struct.pack(">I", len(data)) + b"eXIf" + data + struct.pack(">I", zlib.crc32(b"eXIf" + data))
    return png[:33] + chunk + png[33:]  # after the signature and IHDR


def truncated_webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 20, 30)).save(out, "WEBP")
    return out.getvalue()[:60]


@pytest.mark.parametrize("page", ["²", "٣", "-1", "0", "1e3"])
def test_an_odd_page_number_shows_the_first_page(browser, page):
    response = browser.get(f"/?page={page}")
    assert response.status_code == 200
    assert "page current" in browser.text() or "No posts yet" in browser.text() or "<main" in browser.text()


@pytest.mark.parametrize("path", ["/?page=101", "/?page=" + "9" * 4301, "/users/nobody/posts?page=101"])
def test_a_page_past_the_numbered_ones_is_the_sites_400(browser, path):
    response = browser.get(path)
    assert response.status_code == 400
    assert "Older posts" in browser.text() and "<main" in browser.text()


@pytest.mark.parametrize("cursor", ["nope", "%00", "x" * 300])
def test_a_damaged_cursor_is_the_sites_400(browser, cursor):
    browser.sign_up("ann")
    browser.post("/posts/new", {"title": "Hi", "content": "There"})
    assert browser.get(f"/?after={cursor}").status_code == 400
    assert browser.get(f"/posts/1?comments={cursor}").status_code == 400


@pytest.mark.parametrize("token", ["é" * 64, "ä", "0" * 63 + "é", "Z" * 64])
def test_a_csrf_token_of_another_shape_is_refused_with_the_sites_page(browser, token):
    browser.get("/login")
    response = browser.post("/login", {"email": "a@example.com", "password": "x"}, csrf=token)
    assert response.status_code == 403
    assert "did not come from this site" in browser.text()


@pytest.mark.parametrize("picture", [png_with_corrupt_exif(), truncated_webp()], ids=["png-corrupt-exif", "webp-cut"])
def test_a_damaged_picture_is_refused_with_a_message(browser, picture):
    browser.sign_up("pictor")
    browser.get("/account")
    response = browser.post_multipart(
        "/account",
        {"username": "pictor", "email": "pictor@example.com"},
        {"picture": ("me.png", picture, "image/png")},
    )
    assert response.status_code == 400  # the form again, with the message (as for any bad upload)
    assert "not a picture we can read" in browser.text()
