"""GET /openapi.json of post_api describes every route."""

from __future__ import annotations

from blog_shared.text import text_pattern
from tests.helpers import assert_documents_every_route, documented_routes

ONE_LINE = text_pattern(one_line=True)


def test_every_route_is_in_the_openapi_document(posts, post_api_app):
    assert_documents_every_route(posts, post_api_app)
    assert {("/posts/{post_id}", "put"), ("/posts/{post_id}", "post")} <= documented_routes(posts)
    spec = posts.get("/openapi.json").json_body
    listing = spec["paths"]["/posts"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "page",
        "per_page",
        "user",
        "author",
        "tag",
        "q",
        "cursor",
        "status",
        "with_html",
    }


def test_query_parameters_are_documented_from_the_schema_that_validates_them(posts):
    """GET /posts's parameters come from PostListQuerySchema: types, defaults and limits."""
    spec = posts.get("/openapi.json").json_body
    parameters = {p["name"]: p for p in spec["paths"]["/posts"]["get"]["parameters"]}
    assert all(p["in"] == "query" and not p.get("required") for p in parameters.values())
    assert parameters["page"]["schema"] == {"type": "integer", "default": 1, "minimum": 1, "maximum": 100}
    assert parameters["per_page"]["schema"]["type"] == "integer"
    assert parameters["per_page"]["schema"]["minimum"] == 1
    assert parameters["author"]["schema"] == {"type": "string", "minLength": 1, "maxLength": 20, "pattern": ONE_LINE}
    assert parameters["cursor"]["schema"] == {"type": "string", "minLength": 1, "maxLength": 200, "pattern": ONE_LINE}
    assert "next_cursor" in parameters["cursor"]["description"]
    # What the schema refuses, the API refuses.
    assert posts.get("/posts?page=0").status_code == 400
    assert posts.get("/posts?per_page=x").status_code == 400
    assert posts.get("/posts?cursor=" + "A" * 201).status_code == 400
