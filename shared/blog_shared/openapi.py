"""OpenAPI 3 descriptions built from the apps' own routes and marshmallow schemas.

Views carry their documentation with :func:`doc`; :func:`build_spec` walks the
Chalice route table, so a route cannot exist without appearing in the spec.

The description states every rule the code enforces, so that a request it calls valid is
accepted and one it calls invalid is refused (tests/test_fuzz.py holds both APIs to it):
the validators of each field (also inside ``validate.And``), the text rules of
``blog_shared.text`` as patterns, rules across fields that a schema declares in
``OPENAPI_RULES``, and the statuses the shared machinery answers besides a view's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from chalice.app import Blueprint, Chalice, Response
from marshmallow import Schema, fields, validate

from .text import text_pattern
from .validation import Trimmed

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["fail"]},
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["status", "message"],
}

EMAIL_PATTERN = r"^[^\x00-\x1f\x7f]+@(localhost|\[[0-9.]+\]|[^\x00-\x1f\x7f]*\.[^\x00-\x20\x7f.]{2,})$"


def doc(
    summary: str,
    *,
    body: Any = None,
    response: Any = None,
    status: int | tuple[int, ...] = 200,
    errors: Iterable[int] = (),
    query: type[Schema] | None = None,
    auth: str | None = None,
    database: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a view: ``status`` is its success status (or statuses); ``auth`` is None,
    "optional" or "required"; ``query`` is the schema that validates the query string (its
    fields become the documented parameters); ``errors`` the statuses of the view's own rules
    (those the shared machinery answers are added: see :func:`_implied_errors`); ``database``
    whether it uses the database (then it may answer 503)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.__openapi__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "response": response,
            "status": status,
            "errors": tuple(errors),
            "query": query,
            "auth": auth,
            "database": database,
        }
        return view

    return decorate


def _validators(field: fields.Field[Any]) -> list[Any]:
    """A field's validators, with those inside ``validate.And`` spelled out."""
    found: list[Any] = []
    pending = list(field.validators)
    while pending:
        validator = pending.pop(0)
        if isinstance(validator, validate.And):
            pending[:0] = validator.validators
        else:
            found.append(validator)
    return found


def _field_rules(
    converter: OpenAPIConverter, field: fields.Field[Any], ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """What apispec leaves out of a field's schema: the validators inside ``validate.And``,
    ``validate.Email`` as the email format, and the text rules of every string in a request
    (one line for a one-line :class:`Trimmed` field; not blank when trimmed text has a minimum
    length). A field with a pattern of its own needs no text pattern: its pattern must refuse
    control characters and whitespace itself.

    A :class:`Trimmed` field's rules apply to the value without its surrounding whitespace,
    which no JSON Schema keyword can say: its description says it (a padded value that is too
    long, or a padded name, is still accepted)."""
    rules: dict[str, Any] = {}
    for validator in _validators(field):
        if isinstance(validator, validate.Length) and ret.get("type") == "string":
            low = validator.min if validator.equal is None else validator.equal
            high = validator.max if validator.equal is None else validator.equal
            if low is not None:
                rules["minLength"] = max(low, ret.get("minLength", 0))
            if high is not None:
                rules["maxLength"] = min(high, ret.get("maxLength", high))
        elif isinstance(validator, validate.Regexp) and "pattern" not in ret:
            rules.setdefault("pattern", validator.regex.pattern)
        elif isinstance(validator, validate.Email):
            # What marshmallow's check needs besides the format: a domain ending in a label of
            # two or more characters (or localhost, or an address in brackets); a field that
            # checks more states its own pattern.
            rules.update(format="email")
            if "pattern" not in ret:
                rules["pattern"] = EMAIL_PATTERN
    if isinstance(field, fields.String) and "pattern" not in ret and "pattern" not in rules:
        trimmed = isinstance(field, Trimmed)
        one_line = isinstance(field, Trimmed) and not field.multiline
        min_length = rules.get("minLength", ret.get("minLength", 0))
        rules["pattern"] = text_pattern(one_line=one_line, blank=not (trimmed and min_length > 0))
    if isinstance(field, Trimmed):
        note = "Whitespace around it is removed first: the rules apply to the rest."
        rules["description"] = f"{ret['description']} {note}" if ret.get("description") else note
    return rules


class _Converter(OpenAPIConverter):
    """apispec's converter, adding the rules across fields a schema declares in its
    ``OPENAPI_RULES`` (e.g. ``{"minProperties": 1}``)."""

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)  # type: ignore[no-untyped-call]
        jsonschema.update(getattr(resolve_schema_instance(schema), "OPENAPI_RULES", {}))
        return jsonschema


class _Plugin(MarshmallowPlugin):
    Converter = _Converter


def _implied_errors(meta: dict[str, Any], path_params: list[str]) -> set[int]:
    """The statuses the shared machinery answers for a view (``blog_shared.http``, ``deps``)."""
    codes: set[int] = set()
    if path_params:
        codes.add(404)  # a path segment that cannot name anything
    if meta.get("body") is not None:
        codes |= {400, 413}  # not JSON, not an object, not storable text, too deep; too large
    if meta.get("query") is not None:
        codes.add(400)
    if meta.get("auth") is not None:
        codes.add(401)  # a bad, expired or revoked token is refused, never taken as anonymous
    if meta.get("database"):
        codes.add(503)  # the database cannot be reached
    return codes


def _accepts_empty(schema: Any) -> bool:
    """Whether a body schema accepts ``{}``, which is what an empty body is read as."""
    instance = schema() if isinstance(schema, type) else schema
    return isinstance(instance, Schema) and not instance.validate({})


def _operation(plugin: MarshmallowPlugin, view: Callable[..., Any], path_params: list[str]) -> dict[str, Any]:
    meta = getattr(view, "__openapi__", None) or {"summary": view.__name__, "errors": (), "query": None}
    op: dict[str, Any] = {"summary": meta["summary"], "operationId": view.__name__}
    if view.__doc__:
        op["description"] = view.__doc__.strip()
    params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path_params]
    if meta.get("query") is not None:
        # The same schema validates the query string (RequestScope.query) and documents it;
        # every value must be one line of storable text.
        assert plugin.converter is not None
        for param in plugin.converter.schema2parameters(meta["query"], location="query"):
            schema = param["schema"]
            if schema.get("type") == "string" and schema.get("pattern", text_pattern()) == text_pattern():
                schema["pattern"] = text_pattern(one_line=True)
            params.append(param)
    if params:
        op["parameters"] = params
    if meta.get("body") is not None:
        op["requestBody"] = {
            "required": not _accepts_empty(meta["body"]),
            "content": {"application/json": {"schema": meta["body"]}},
        }
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
    status = meta.get("status", 200)
    op["responses"] = {str(code): ok for code in (status if isinstance(status, tuple) else (status,))}
    for code in sorted(set(meta.get("errors", ())) | _implied_errors(meta, path_params)):
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
    plugin = _Plugin()
    spec = APISpec(
        title=title,
        version=version,
        openapi_version="3.0.3",
        plugins=[plugin],
        info={"description": description},
    )
    assert plugin.converter is not None  # made when the spec initialised the plugin
    plugin.converter.add_attribute_function(_field_rules)  # type: ignore[no-untyped-call]
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
    @doc("This API's OpenAPI 3 description", database=False)
    def openapi() -> Response:
        if "spec" not in cache:
            app = bp._current_app
            assert app is not None  # set when the app registered the blueprint
            cache["spec"] = build_spec(app, title=title, description=description)
        return Response(body=cache["spec"], status_code=200)

    return bp
