"""What feeds and search engines read from post_api: pages with HTML, the sitemap's parts."""

from __future__ import annotations

from tests.helpers import write_post


def test_a_page_with_html_is_for_feeds_and_at_most_twenty_posts(users, posts):
    _, token = users.register_and_login("ann")
    write_post(posts, token, content="Some **bold** words")
    plain = posts.get("/posts").json_body["data"]["posts"][0]
    assert "content_html" not in plain
    [post] = posts.get("/posts?with_html=true&per_page=20").json_body["data"]["posts"]
    assert post["content_html"] == "<p>Some <strong>bold</strong> words</p>\n"
    refused = posts.get("/posts?with_html=true&per_page=21")
    assert refused.status_code == 400 and "per_page" in refused.json_body["errors"]
    assert posts.get("/posts?with_html=maybe").status_code == 400


def test_the_sitemap_parts_hold_public_posts_and_users(users, posts):
    _, ann = users.register_and_login("ann")
    users.register_and_login("bob")
    public = write_post(posts, ann, title="Public")
    write_post(posts, ann, title="Draft", status="draft")
    parts = posts.get("/sitemap").json_body["data"]
    assert parts == {"post_parts": 1, "user_parts": 1, "part_size": 10_000}
    post_urls = posts.get("/sitemap/posts/1").json_body["data"]["urls"]
    assert [entry["url"] for entry in post_urls] == [public["url"]]
    assert post_urls[0]["lastmod"] == public["date_posted"]
    user_urls = posts.get("/sitemap/users/1").json_body["data"]["urls"]
    assert [entry["url"] for entry in user_urls] == [
        "http://blog.test/users/ann/posts",
        "http://blog.test/users/bob/posts",
    ]
    assert posts.get("/sitemap/posts/2").json_body["data"]["urls"] == []
    for part in ("0", "-1", "x", "99999999999", "214749"):
        assert posts.get(f"/sitemap/posts/{part}").status_code == 404, part
