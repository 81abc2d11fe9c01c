"""GET /openapi.json of post_api describes every route."""

from __future__ import annotations

from tests.user_api.test_openapi import assert_documents_every_route, documented_routes


def test_every_route_is_in_the_openapi_document(posts, post_api_app):
    assert_documents_every_route(posts, post_api_app)
    assert {("/posts/{post_id}", "put"), ("/posts/{post_id}", "post")} <= documented_routes(posts)
    spec = posts.get("/openapi.json").json_body
    listing = spec["paths"]["/posts"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"page", "per_page", "user", "author", "cursor"}
