"""OpenAPI 3 descriptions built from the apps' own routes and marshmallow schemas.

Views carry their documentation with :func:`doc`; :func:`build_spec` walks the
Chalice route table, so a route cannot exist without appearing in the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from chalice.app import Blueprint, Chalice, Response
from marshmallow import Schema

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["fail"]},
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["status", "message"],
}


def doc(
    summary: str,
    *,
    body: Any = None,
    response: Any = None,
    status: int = 200,
    errors: Iterable[int] = (),
    query: type[Schema] | None = None,
    auth: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a view: ``auth`` is None, "optional" or "required"; ``query`` is the schema that
    validates the query string (its fields become the documented parameters)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.__openapi__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "response": response,
            "status": status,
            "errors": tuple(errors),
            "query": query,
            "auth": auth,
        }
        return view

    return decorate


def _operation(plugin: MarshmallowPlugin, view: Callable[..., Any], path_params: list[str]) -> dict[str, Any]:
    meta = getattr(view, "__openapi__", None) or {"summary": view.__name__, "errors": (), "query": None}
    op: dict[str, Any] = {"summary": meta["summary"], "operationId": view.__name__}
    if view.__doc__:
        op["description"] = view.__doc__.strip()
    params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path_params]
    if meta.get("query") is not None:
        # The same schema validates the query string (RequestScope.query) and documents it.
        assert plugin.converter is not None
        params += plugin.converter.schema2parameters(meta["query"], location="query")
    if params:
        op["parameters"] = params
    if meta.get("body") is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": meta["body"]}}}
    ok: dict[str, Any] = {"description": "Success"}
    if meta.get("response") is not None:
        ok["content"] = {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"status": {"type": "string", "enum": ["success"]}, "data": meta["response"]},
                }
            }
        }
    op["responses"] = {str(meta.get("status", 200)): ok}
    for code in meta.get("errors", ()):
        op["responses"][str(code)] = {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if meta.get("auth") == "required":
        op["security"] = [{"bearerAuth": []}]
    elif meta.get("auth") == "optional":
        op["security"] = [{"bearerAuth": []}, {}]
    return op


def build_spec(app: Chalice, title: str, version: str = "1.0.0", description: str = "") -> dict[str, Any]:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title=title,
        version=version,
        openapi_version="3.0.3",
        plugins=[plugin],
        info={"description": description},
    )
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for path, methods in sorted(app.routes.items()):
        operations = {}
        for method, entry in methods.items():
            operations[method.lower()] = _operation(plugin, entry.view_function, list(entry.view_args))
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def openapi_blueprint(title: str, description: str) -> Blueprint:
    """``GET /openapi.json`` for the app that registers it, built once per container."""
    bp = Blueprint("blog_shared.openapi")
    cache: dict[str, Any] = {}

    @bp.route("/openapi.json", methods=["GET"])
    @doc("This API's OpenAPI 3 description")
    def openapi() -> Response:
        if "spec" not in cache:
            app = bp._current_app
            assert app is not None  # set when the app registered the blueprint
            cache["spec"] = build_spec(app, title=title, description=description)
        return Response(body=cache["spec"], status_code=200)

    return bp
