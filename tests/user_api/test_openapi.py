"""GET /openapi.json describes every route of the app."""

from __future__ import annotations


def test_every_route_is_in_the_openapi_document(users, user_api_app):
    assert_documents_every_route(users, user_api_app)
    assert ("/user-follow/{follower_id}/{followed_username}", "delete") in documented_routes(users)


def documented_routes(api) -> set[tuple[str, str]]:
    spec = api.get("/openapi.json").json_body
    return {(path, method) for path, operations in spec["paths"].items() for method in operations}


def assert_documents_every_route(api, app) -> None:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json_body
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]
    routes = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    assert len(routes) >= 5
    assert routes <= documented_routes(api)
    for operations in spec["paths"].values():
        for operation in operations.values():
            assert operation["summary"] and operation["responses"]


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
