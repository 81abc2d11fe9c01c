"""Posts are Markdown: the API stores what was written and returns it rendered (sanitised),
with an excerpt, a slug and the post's canonical address; the editor's preview renders
without saving."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.helpers import write_post

SOURCE = "Intro with **bold** and [a link](https://example.com).\n\n<script>alert(1)</script>\n\n- one\n- two\n"


def test_a_post_is_stored_as_written_and_returned_rendered(users, posts, database_url):
    _, token = users.register_and_login("ann")
    created = posts.post("/posts", {"title": "Hello, World! Ünïcode", "content": SOURCE}, token=token)
    assert created.status_code == 201, created.json_body
    post = created.json_body["data"]
    assert post["content"] == SOURCE.strip()
    assert "<strong>bold</strong>" in post["content_html"] and "<li>two</li>" in post["content_html"]
    assert 'rel="nofollow ugc noopener"' in post["content_html"]
    assert "<script>" not in post["content_html"] and "&lt;script&gt;" in post["content_html"]
    assert post["excerpt"] == "Intro with bold and a link. <script>alert(1)</script> one two"
    assert post["slug"] == "hello-world-unicode"
    assert post["url"] == f"http://blog.test/posts/{post['id']}/hello-world-unicode"
    # Rendered once, when written: the row holds the HTML, reads only read it.
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT content, content_html, slug FROM posts")).one()
    engine.dispose()
    assert stored == (post["content"], post["content_html"], post["slug"])
    shown = posts.get(f"/posts/{post['id']}").json_body["data"]
    assert {k: shown[k] for k in ("content_html", "excerpt", "slug", "url")} == {
        k: post[k] for k in ("content_html", "excerpt", "slug", "url")
    }
    # Lists carry the source and the excerpt, not the HTML: a page of 50 stays small.
    [listed] = posts.get("/posts").json_body["data"]["posts"]
    assert (
        "content_html" not in listed and listed["excerpt"] == post["excerpt"] and listed["content"] == post["content"]
    )


def test_content_that_cannot_be_shown_is_a_400_and_nothing_is_written(users, posts):
    _, token = users.register_and_login("ann")
    for content in ("> " * 30 + "deep", "|" + "a|" * 300 + "\n|" + "-|" * 300 + "\n" + "|\n" * 200):
        for path, body in (("/posts", {"title": "t", "content": content}), ("/posts/preview", {"content": content})):
            answer = posts.post(path, body, token=token)
            assert answer.status_code == 400 and "content" in answer.json_body["errors"], answer.json_body
    assert posts.get("/posts").json_body["pagination_meta"]["total"] == 0


def test_an_update_renders_again_and_a_new_title_gives_a_new_slug(users, posts):
    _, token = users.register_and_login("ann")
    post = write_post(posts, token, title="First title", content="*old*")
    updated = posts.put(f"/posts/{post['id']}", {"content": "**new**"}, token=token).json_body["data"]
    assert updated["content_html"] == "<p><strong>new</strong></p>\n" and updated["slug"] == "first-title"
    renamed = posts.put(f"/posts/{post['id']}", {"title": "Second title"}, token=token).json_body["data"]
    assert renamed["slug"] == "second-title" and renamed["url"].endswith(f"/posts/{post['id']}/second-title")
    assert renamed["content_html"] == updated["content_html"]


def test_the_preview_renders_without_saving_and_needs_a_writer(users, posts):
    _, token = users.register_and_login("ann")
    assert posts.post("/posts/preview", {"content": "# Hi"}).status_code == 401
    answer = posts.post("/posts/preview", {"content": "# Hi\n\n<b>x</b>"}, token=token)
    assert answer.status_code == 200
    assert answer.json_body["data"] == {
        "content_html": "<h2>Hi</h2>\n<p>&lt;b&gt;x&lt;/b&gt;</p>\n",
        "excerpt": "Hi <b>x</b>",
    }
    assert posts.get("/posts").json_body["pagination_meta"]["total"] == 0
    refused = posts.post("/posts/preview", {"content": ""}, token=token)
    assert refused.status_code == 400 and "content" in refused.json_body["errors"]


def test_a_post_from_before_markdown_stays_plain_text_until_its_text_changes(users, posts, database_url):
    _, token = users.register_and_login("ann")
    post = write_post(posts, token, content="Old *stars*")
    legacy = "<p>Old *stars*</p>\n"  # as migration 0007 left posts written before Markdown
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE posts SET content_html = :html WHERE id = :id"), {"html": legacy, "id": post["id"]})
    engine.dispose()
    # The site's editor sends the text back unchanged with a new title.
    renamed = posts.put(f"/posts/{post['id']}", {"title": "New title", "content": "Old *stars*"}, token=token)
    assert renamed.json_body["data"]["content_html"] == legacy
    edited = posts.put(f"/posts/{post['id']}", {"content": "New *stars*"}, token=token)
    assert edited.json_body["data"]["content_html"] == "<p>New <em>stars</em></p>\n"
