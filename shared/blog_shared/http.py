"""The JSON API conventions every app follows, in one place.

- Success: ``{"status": "success", "data": ...}`` (:func:`success`).
- Errors: ``{"status": "fail", "message": "...", "errors": {field: [..]}}``: raise
  :class:`ApiError` anywhere in a request; the middleware installed by
  :func:`create_api` turns it into the response. A database that cannot be reached
  becomes a 503, anything unexpected a 500 in the same shape (never a traceback).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response
from chalice.app import Request

from .config import get_settings
from .errors import ApiError

log = logging.getLogger("blog")


def error_response(
    status: int, message: str, errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"status": "fail", "message": message}
    if errors:
        body["errors"] = errors
    return Response(body=body, status_code=status, headers=headers or {})


def success(data: Any, status: int = 200, **extra: Any) -> Response:
    return Response(body={"status": "success", "data": data, **extra}, status_code=status)


def no_content() -> Response:
    return Response(body="", status_code=204)


def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; 413 when too large, 400 when not a JSON object."""
    raw = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise ApiError(413, "Request body is too large.")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Request body must be valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.")
    return body


MAX_ID = 2**31 - 1  # ids are PostgreSQL integers


def path_id(raw: str) -> int | None:
    """A path segment as an id, or None when it cannot be one (the route then answers 404)."""
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID else None


def query_param(request: Request, name: str) -> str | None:
    return (request.query_params or {}).get(name)


def _errors_as_json(event: Any, get_response: Callable[[Any], Response]) -> Response:
    try:
        response = get_response(event)
    except ApiError as error:
        return error_response(error.status, error.message, error.errors, error.headers)
    # Chalice answers some errors itself (405, 415, unexpected exceptions as 500) with
    # {"Code", "Message"}: give them the same envelope as ours.
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        response.body = {"status": "fail", "message": body["Message"]}
    return response


class _RequestPerThread(Chalice):
    """Chalice keeps the current request on the app object. Lambda runs one request per
    container, but ``chalice local`` serves from several threads, so keep it per thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._local = threading.local()
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def current_request(self) -> Request | None:
        return getattr(self._local, "request", None)

    @current_request.setter
    def current_request(self, value: Request | None) -> None:
        self._local.request = value

    @property  # type: ignore[override]
    def lambda_context(self) -> Any:
        return getattr(self._local, "lambda_context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._local.lambda_context = value


def new_app(app_name: str) -> Chalice:
    """A Chalice app that keeps the current request per thread."""
    return _RequestPerThread(app_name=app_name)


def create_api(app_name: str) -> Chalice:
    """A JSON API app with the shared error handling installed."""
    app = new_app(app_name)
    app.register_middleware(_errors_as_json, "http")
    return app
