"""GET /openapi.json describes every route of the app."""

from __future__ import annotations

from tests.helpers import assert_documents_every_route, documented_routes


def test_every_route_is_in_the_openapi_document(users, user_api_app):
    assert_documents_every_route(users, user_api_app)
    assert ("/user-follow/{follower_id}/{followed_username}", "delete") in documented_routes(users)


def test_the_document_carries_schemas_and_security(users):
    spec = users.get("/openapi.json").json_body
    create = spec["paths"]["/users"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert {"username", "email", "password"} <= set(schema["properties"])
    assert set(schema["required"]) == {"username", "email", "password"}
    assert "201" in create["responses"] and "400" in create["responses"]
    update = spec["paths"]["/users/{user_id}"]["put"]
    assert update["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    user_schema = spec["paths"]["/users/{user_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert user_schema["schema"]["properties"]["data"]["$ref"].endswith("/User")
