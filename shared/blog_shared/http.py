"""The JSON API conventions every app follows, in one place.

- Success: ``{"status": "success", "data": ...}`` (:func:`success`).
- Errors: ``{"status": "fail", "message": "...", "errors": {field: [..]}}``: raise a
  domain error (``blog_shared.errors``) anywhere in a request; :func:`error_response` is
  the one mapping from its kind to a status (routes of an :class:`ApiBlueprint` answer
  with it). Chalice's own errors (405, 415) get the same shape from the middleware
  installed by :func:`create_api`.
- An unexpected exception is logged with its traceback and the request's id, and answered
  ``{"status": "error", "message": ..., "request_id": ...}`` with status 500 (never a
  traceback). Every response carries ``X-Request-Id`` and the security headers.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, Chalice, ChaliceViewError, Request, Response

from .config import get_settings
from .errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    PayloadTooLargeError,
    ThrottledError,
    UnauthenticatedError,
    UnavailableError,
)
from .text import check_strings, text_problem

log = logging.getLogger("blog")


# The one mapping from a domain error's kind to its HTTP status.
STATUS_OF: dict[type[DomainError], int] = {
    InvalidError: 400,
    UnauthenticatedError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    PayloadTooLargeError: 413,
    ThrottledError: 429,
    UnavailableError: 503,
}
BEARER_CHALLENGE = 'Bearer realm="serverless-blog"'


def error_response(error: DomainError) -> Response:
    """The JSON answer to a domain error."""
    status = next(code for kind, code in STATUS_OF.items() if isinstance(error, kind))
    headers: dict[str, str | list[str]] = {}
    if isinstance(error, ThrottledError | UnavailableError):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, UnauthenticatedError):
        headers["WWW-Authenticate"] = BEARER_CHALLENGE
    body: dict[str, Any] = {"status": "fail", "message": error.message}
    if error.errors:
        body["errors"] = error.errors
    return Response(body=body, status_code=status, headers=headers)


def success(data: Any, status: int = 200, **extra: Any) -> Response:
    return Response(body={"status": "success", "data": data, **extra}, status_code=status)


def no_content() -> Response:
    return Response(body="", status_code=204)


def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; 413 when too large, 400 when not a JSON object."""
    raw = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLargeError("Request body is too large.")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidError("Request body must be valid JSON.") from None
    except RecursionError:  # thousands of nested brackets
        raise InvalidError("Request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise InvalidError("Request body must be a JSON object.")
    check_strings(body)
    return body


MAX_ID = 2**31 - 1  # ids are PostgreSQL integers
# Lists are numbered up to MAX_PAGE pages (an OFFSET of a few thousand rows at most);
# further back, a page's ``next_cursor`` continues at the cost of one page.
MAX_PAGE = 100


def parse_id(raw: str) -> int | None:
    """A path segment as an id (ASCII digits within PostgreSQL's integer), or None."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_ID))):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def path_id(raw: str, not_found: str) -> int:
    """A path segment as an id; ``not_found`` (a 404) when it cannot be one."""
    found = parse_id(raw)
    if found is None:
        raise NotFoundError(not_found)
    return found


def request_id(request: Request) -> str:
    """API Gateway's id of the request (one is made up where there is none, as under
    ``chalice local``); the same for the whole request."""
    context = request.context
    if not context.get("requestId"):
        context["requestId"] = uuid.uuid4().hex
    return str(context["requestId"])


UNEXPECTED_MESSAGE = "Something went wrong on our side; it has been logged."


def log_failure(rid: str, error: BaseException) -> None:
    """Log an unexpected exception with its traceback and the request id. A database error
    is logged by its code and statement only: PostgreSQL's own message may quote the values
    (an email in "Key (...)=(...) already exists"), which must not reach the logs."""
    # SQLAlchemy's DBAPIError, told by its attributes (the site's artifact has no SQLAlchemy).
    driver_error, statement = getattr(error, "orig", None), getattr(error, "statement", None)
    if driver_error is not None and statement is not None:
        details = driver_error.args[0] if driver_error.args else None
        code = details.get("C", "") if isinstance(details, dict) else ""
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error(
            "request %s failed: %s (SQLSTATE %s) in %s\n%s", rid, type(driver_error).__name__, code, statement, frames
        )
    else:
        log.error("request %s failed", rid, exc_info=error)


def unexpected_error(request: Request | None, error: BaseException) -> Response:
    """The answer to an exception nobody expected, logged (see :func:`log_failure`)."""
    rid = request_id(request) if request is not None else uuid.uuid4().hex
    log_failure(rid, error)
    return Response(body={"status": "error", "message": UNEXPECTED_MESSAGE, "request_id": rid}, status_code=500)


def _answering_domain_errors(view: Callable[..., Any], blueprint: Blueprint) -> Callable[..., Any]:
    @functools.wraps(view)  # keeps the name, docstring and OpenAPI notes of the view
    def answer(*args: Any, **kwargs: Any) -> Any:
        try:
            # A path segment that cannot be stored text names nothing.
            if any(isinstance(v, str) and text_problem(v, one_line=True) for v in kwargs.values()):
                raise NotFoundError("Nothing is found at this address.")
            return view(*args, **kwargs)
        except DomainError as error:
            return error_response(error)
        except ChaliceViewError:
            raise  # Chalice maps these to their statuses
        except Exception as error:  # noqa: BLE001 - the last resort: logged, answered 500 in our envelope
            return unexpected_error(blueprint.current_request, error)

    return answer


class ApiBlueprint(Blueprint):
    """A Blueprint whose routes answer domain errors with :func:`error_response` and any
    other exception with :func:`unexpected_error`."""

    def route(self, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            register(_answering_domain_errors(view, self))
            return view

        return decorator


# A JSON API's answers are never pages: nothing in them may run, frame or be sniffed.
API_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def _api_edges(event: Any, get_response: Callable[[Any], Response]) -> Response:
    rid = request_id(event)
    response = get_response(event)
    # Chalice answers some errors itself (405, 415, and an exception outside our views as
    # 500, its traceback logged above) with {"Code", "Message"}: give them our envelope.
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        if response.status_code >= 500:
            log.error("request %s failed (traceback above)", rid)
            response.body = {"status": "error", "message": UNEXPECTED_MESSAGE, "request_id": rid}
        else:
            response.body = {"status": "fail", "message": body["Message"]}
    response.headers.update(API_SECURITY_HEADERS)
    response.headers["X-Request-Id"] = rid
    return response


class _RequestPerThread(Chalice):
    """Chalice keeps the current request on the app object. Lambda runs one request per
    container, but ``chalice local`` serves from several threads, so keep it per thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._local = threading.local()
        super().__init__(*args, **kwargs)

    @property
    def current_request(self) -> Request | None:
        return getattr(self._local, "request", None)

    @current_request.setter
    def current_request(self, value: Request | None) -> None:
        self._local.request = value

    @property
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
    app.register_middleware(_api_edges, "http")
    return app
