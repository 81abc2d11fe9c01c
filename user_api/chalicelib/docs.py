"""/openapi.json: this API described from its own route table."""

from __future__ import annotations

from chalice import Blueprint, Response

from blog_shared.openapi import build_spec, doc

bp = Blueprint(__name__)
_spec: dict | None = None


@bp.route("/openapi.json", methods=["GET"])
@doc("This API's OpenAPI 3 description")
def openapi() -> Response:
    global _spec
    if _spec is None:  # built once per container
        _spec = build_spec(
            bp._current_app,
            title="Serverless Blog: user API",
            description="Users, authentication and following.",
        )
    return Response(body=_spec, status_code=200)
