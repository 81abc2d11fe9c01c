"""GET /posts?q=: PostgreSQL full text over titles, tags and bodies, best matches first,
with highlights; any query string is a 200 or a 400; the search and the tag filter use
their indexes."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql

from tests.helpers import app_module, seed_posts, write_post


def titles(answer) -> list[str]:
    return titles_of(answer.json_body)


def titles_of(body) -> list[str]:
    return [post["title"] for post in body["data"]["posts"]]


def test_search_stems_ranks_titles_first_and_highlights(users, posts):
    _, token = users.register_and_login("ann")
    write_post(posts, token, title="Evening notes", content="I went running by the river <b>today</b> & 1 < 2.")
    write_post(posts, token, title="How to run a blog", content="Mostly about writing.")
    write_post(posts, token, title="Cooking", content="Nothing to see here.", tags=["runner"])
    write_post(posts, token, title="Unrelated", content="Soup.")
    found = posts.get("/posts?q=run")
    assert found.status_code == 200
    assert titles(found) == ["How to run a blog", "Evening notes"]  # title above body; "running" is "run"
    assert found.json_body["pagination_meta"]["total"] == 2 and found.json_body["next_cursor"] is None
    one_a_page = posts.get("/posts?q=run&per_page=1&page=2").json_body
    assert titles_of(one_a_page) == ["Evening notes"] and one_a_page["pagination_meta"]["total"] == 2
    past_the_end = posts.get("/posts?q=run&page=5").json_body  # no row to carry the count
    assert past_the_end["data"]["posts"] == [] and past_the_end["pagination_meta"]["total"] == 2
    body_match = found.json_body["data"]["posts"][1]
    assert "<mark>running</mark>" in body_match["highlight"]
    assert "<b>" not in body_match["highlight"]
    assert titles(posts.get("/posts?q=runner")) == ["Cooking"]  # tags are searched
    assert titles(posts.get('/posts?q="river today"')) == ["Evening notes"]  # a phrase
    assert titles(posts.get("/posts?q=run -blog")) == ["Evening notes"]


def test_a_highlight_is_escaped_text_with_only_mark_elements(post_api_app):
    store = app_module("post_api", "chalicelib.posts.store")
    raw = f"a <script>x</script> & {store.MARK_START}run{store.MARK_END}\n  <mark>fake</mark>"
    assert (
        store.highlight_html(raw)
        == "a &lt;script&gt;x&lt;/script&gt; &amp; <mark>run</mark> &lt;mark&gt;fake&lt;/mark&gt;"
    )


@pytest.mark.parametrize(
    "query",
    [
        "'",
        '"',
        '"unclosed',
        "a & b | !c",
        "():*",
        "!!!",
        "run:*",
        "&|!():*<>-'\"\\",
        "the",  # only a stop word: nothing to look for
        "or or or",
        "-",
        "x" * 200,
        "ä ö ü 日本 🙂",
        "%",
        "SELECT * FROM posts; --",
    ],
)
def test_any_query_string_is_answered(users, posts, query):
    _, token = users.register_and_login("ann")
    write_post(posts, token, title="Something", content="the quick brown fox")
    answer = posts.get("/posts?" + urlencode({"q": query}))
    assert answer.status_code == 200, answer.json_body
    assert isinstance(answer.json_body["data"]["posts"], list)


@pytest.mark.parametrize("query", ["", "x" * 201, "a\x00b", "line\nbreak"])
def test_an_empty_or_overlong_query_is_a_400(posts, query):
    answer = posts.get("/posts?" + urlencode({"q": query}))
    assert answer.status_code == 400, answer.json_body
    assert answer.json_body["status"] == "fail"


def test_search_takes_no_other_filter_and_no_cursor(posts):
    assert posts.get("/posts?q=x&tag=y").status_code == 400
    assert posts.get("/posts?q=x&cursor=abc").status_code == 400


def test_search_and_the_tag_filter_use_their_indexes(users, posts, database_url, post_api_app):
    """At 20,000 posts (statistics gathered), the planner reads the GIN indexes: no
    sequential scan of posts for a rare word, a common one, or a tag; nor for the public
    list, an author's drafts or scheduled posts, or the chore's search for posts gone live."""
    from blog_shared import publishing

    users.register("ann")
    seed_posts(database_url, {1: 20000})
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE posts SET tags = ARRAY['rare'] WHERE id % 5000 = 0"))
        conn.execute(text("UPDATE posts SET content = content || ' zebra' WHERE id % 4000 = 0"))
        # Drafts at the head of the timeline: a writer's many drafts must not be read past.
        conn.execute(text("UPDATE posts SET draft = true, counted = false, date_posted = now() WHERE id % 1000 = 0"))
        conn.execute(text("UPDATE posts SET followers_notified = false WHERE id % 3000 = 1"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE posts"))  # as autovacuum leaves a table (GIN's pending list merged)
    store = app_module("post_api", "chalicelib.posts.store")
    cases = {
        "rare word": (store._search_statement(False), {"q": "zebra", "offset": 0, "limit": 10}),
        "common word": (store._search_statement(False), {"q": "body", "offset": 0, "limit": 10}),
        "tag": store.page_query(None, 10, tag="rare"),
        "all public posts": store.page_query(None, 10),
        "an author's drafts": store.page_query(1, 10, author_id=1, status="draft"),
        "an author's scheduled posts": store.page_query(1, 10, author_id=1, status="scheduled"),
        "the chore's posts gone live": (publishing._DUE, {}),
    }
    indexes = {  # a common word may walk the date index, its matches come early
        "common word": "ix_posts_",
        "tag": "ix_posts_tags",
        "all public posts": "ix_posts_date",
        "an author's drafts": "ix_posts_drafts",
        "an author's scheduled posts": "ix_posts_user_date",
        "the chore's posts gone live": "ix_posts_due",
    }
    for name, (statement, params) in cases.items():
        sql = str(
            statement.params(params).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        )
        with engine.connect() as conn:
            plan = "\n".join(conn.execute(text(f"EXPLAIN {sql}")).scalars())
        assert "Seq Scan on posts" not in plan, f"{name}:\n{plan}"
        assert indexes.get(name, "ix_posts_search") in plan, f"{name}:\n{plan}"
        if name == "all public posts":  # the index holds no drafts: nothing to filter out
            assert "draft" not in plan, plan
    engine.dispose()
