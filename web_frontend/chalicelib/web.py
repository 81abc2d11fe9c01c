"""Pages, forms and redirects: the web app's request handling in one place.

:func:`create_web_app` installs one middleware that, for every request, reads the
visitor's cookies (see ``visit``), refuses a POST without a valid CSRF token, turns
errors into pages in the site's layout (403, 404, 500, 503 when an API is down), and
adds the security headers and cookies to the response.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from chalice.app import Chalice, ChaliceUnhandledError, Request, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from python_multipart import parse_form
from python_multipart.multipart import Field, File

from blog_shared.config import get_settings
from blog_shared.http import log_failure, new_app, request_id

from . import visit as visits
from .api import ApiResponse, ServiceUnavailableError

log = logging.getLogger("blog.web")
HERE = Path(__file__).resolve().parent
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]
# What a page route accepts: forms, and no body at all (Chalice treats that as JSON).
PAGE_TYPES = [*FORM_TYPES, "application/json"]
UPLOAD_FIELDS = {b"picture"}
MAX_FORM_BYTES = 3 * 1024 * 1024  # a 2 MB picture plus the rest of the form

ERROR_TITLES = {
    400: "Bad request",
    413: "Too large",
    403: "You don't have permission to do that",
    404: "Page not found",
    405: "Not allowed",
    415: "Unsupported form",
    429: "Too many requests",
    500: "Something went wrong",
    503: "We'll be right back",
}
ERROR_TEXTS = {
    400: "The request could not be understood.",
    403: "Only the author of the post can operate on it, and forms must come from this site.",
    404: "That page does not exist (or not any more).",
    405: "This page cannot be used that way.",
    415: "This page takes forms only as browsers send them.",
    429: "You are going too fast; please wait a little and try again.",
    500: "We're sorry: an error occurred on our side. Please try again.",
    503: "Part of the blog is unavailable at the moment. Please try again in a minute.",
}


class PageError(ChaliceUnhandledError):
    """Stop and show the error page for ``status`` (optionally with a specific message)."""

    def __init__(self, status: int, message: str | None = None, retry_after: str | None = None) -> None:
        super().__init__(message or ERROR_TEXTS.get(status, ""))
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @classmethod
    def throttled(cls, answer: ApiResponse) -> PageError:
        """An API's 429 as the site's, with its Retry-After."""
        retry_after = next((v for k, v in answer.headers.items() if k.lower() == "retry-after"), None)
        return cls(429, answer.message, retry_after)


class LoginRequiredError(ChaliceUnhandledError):
    """Send the visitor to the login page, and back to ``location`` after."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def login_required() -> visits.Visit:
    """The visit of a logged-in user; anyone else is sent to log in first."""
    visit = visits.current()
    if visit.user is None:
        raise LoginRequiredError(url("/login", next=requested_path(visit.request)))
    return visit


def requested_path(request: Request) -> str:
    """The path the visitor asked for, with its query string, as the site shows it: API
    Gateway's event path (its request context's starts with the stage, /api); `chalice local`
    only gives the request context's, which has no stage."""
    path = str(request.to_original_event().get("path") or (request.context or {}).get("path") or "/")
    query = query_params(request)
    return f"{path}?{urlencode(dict(query))}" if query else path


# -- templates -----------------------------------------------------------------------------------


def _readable_date(value: str | None) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.strftime("%B %-d, %Y")


def _readable_time(value: str | None) -> str:
    """An API time as a reader sees it, in UTC (the site does not know the reader's zone)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return value
    return moment.strftime("%B %-d, %Y %H:%M UTC")


def _iso_date(value: str | None) -> str:
    return value or ""


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["readable_date"] = _readable_date
templates.filters["iso_date"] = _iso_date
templates.filters["readable_time"] = _readable_time


def render(template: str, status: int | None = None, **context: Any) -> Response:
    """The page; unless ``status`` says otherwise, 200, or 400 when it shows a form's errors
    (so a refused form is told apart from a shown one by its status too)."""
    if status is None:
        status = 400 if context.get("errors") else 200
    visit = visits.current()
    page = templates.get_template(template).render(
        current_user=visit.user,
        csrf_token=visit.csrf_token,
        flashes=visit.take_flashes(),
        request_path=(visit.request.context or {}).get("path", "/"),
        **context,
    )
    return Response(body=page, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def redirect(location: str, message: str | None = None, category: str = "info") -> Response:
    if message:
        visits.current().flash(message, category)
    return Response(body="", status_code=303, headers={"Location": location})


def query_params(request: Request) -> Mapping[str, str]:
    """The request's query string (the last value of a repeated parameter); empty when none."""
    return request.query_params or {}


def header(request: Request, name: str) -> str:
    """A request header (any case), "" when absent."""
    headers: Mapping[str, str] = request.headers or {}
    return headers.get(name, "")


def url(path: str, **query: Any) -> str:
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode(params)}" if params else path


def safe_next(target: str | None, default: str = "/") -> str:
    """Only ever redirect within this site: a path, never a scheme, host or protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return default
    return target


templates.globals["url"] = url


# -- forms ---------------------------------------------------------------------------------------


def form_errors(answer: ApiResponse, default_field: str) -> dict[str, list[str]]:
    """An API refusal as messages per form field ("This username has been taken." goes
    beside the username); a 429 is the site's 429 page."""
    if answer.status == 429:
        raise PageError.throttled(answer)
    for field in ("username", "email"):
        if answer.message.startswith(f"This {field}"):
            return {field: [answer.message]}
    return answer.errors or {default_field: [answer.message]}


class Upload:
    def __init__(self, filename: str, content: bytes) -> None:
        self.filename = filename
        self.content = content


def form() -> dict[str, Any]:
    """The request's form fields (urlencoded or multipart), parsed once per request.
    Text fields are str; file fields are :class:`Upload` (or absent when empty)."""
    visit = visits.current()
    if visit.form is not None:
        return visit.form
    request = visit.request
    body = request.raw_body or b""
    raw = body.encode() if isinstance(body, str) else body  # Chalice gives bytes; typed str | bytes
    if len(raw) > MAX_FORM_BYTES:
        raise PageError(413, "That form is too large (pictures may be at most 2 MB).")
    fields: dict[str, Any] = {}
    content_type = header(request, "content-type")
    kind = content_type.split(";")[0].strip().lower()
    if raw and kind == "application/x-www-form-urlencoded":
        fields = dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
    elif raw and kind == "multipart/form-data":

        def on_field(field: Field) -> None:
            if field.field_name is not None:
                fields[field.field_name.decode(errors="replace")] = (field.value or b"").decode(errors="replace")

        def on_file(file: File) -> None:
            file.file_object.seek(0)
            content = file.file_object.read()
            field_name = file.field_name
            # Only the picture field takes a file; a file anywhere else is ignored.
            if content and field_name is not None and field_name in UPLOAD_FIELDS:
                name = (file.file_name or b"").decode(errors="replace")
                fields[field_name.decode(errors="replace")] = Upload(name, content)

        try:
            parse_form(
                {"Content-Type": content_type.encode(), "Content-Length": str(len(raw)).encode()},
                io.BytesIO(raw),
                on_field,
                on_file,
            )
        except Exception as error:  # noqa: BLE001 - a malformed form is the sender's problem: 400
            log.info("unparseable form: %s", error)
            raise PageError(400, "The form could not be read.") from None
    visit.form = fields
    return fields


# -- the app -------------------------------------------------------------------------------------


def _security_headers(response: Response) -> None:
    settings = get_settings()
    img_sources = "'self' data:"
    if settings.avatar_base_url:
        parts = urlsplit(settings.avatar_base_url)
        img_sources += f" {parts.scheme}://{parts.netloc}"
    response.headers.update(
        {
            "Content-Security-Policy": (
                f"default-src 'self'; img-src {img_sources}; style-src 'self'; script-src 'self'; "
                "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
            ),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
        }
    )
    if not settings.is_dev:  # served over https only (local dev is plain http)
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"


def _error_page(status: int, message: str | None = None, reference: str | None = None) -> Response:
    return render(
        "error.html",
        status=status,
        title=ERROR_TITLES.get(status, "Error"),
        message=message or ERROR_TEXTS.get(status, ""),
        status_code=status,
        reference=reference,
    )


# Routes whose POST is authorised by a signed token in the URL, not by the visitor's cookies:
# mail providers post to the unsubscribe link without any (RFC 8058).
CSRF_EXEMPT = frozenset({"/unsubscribe/{token}"})


def _handle(event: Any, get_response: Callable[[Any], Response]) -> Response:
    request = event
    rid = request_id(request)
    visit = visits.start(request)
    try:
        visits.identify(visit)
        csrf_checked = (request.context or {}).get("resourcePath") not in CSRF_EXEMPT
        if request.method == "POST" and csrf_checked and not visit.csrf_ok(form().get("csrf_token")):
            response = _error_page(403, "The form has expired or did not come from this site. Please try again.")
        else:
            response = get_response(event)
            if response.status_code >= 500 and isinstance(response.body, dict):
                # Chalice's own answer to an exception in a page (its traceback logged above).
                log.error("request %s failed (traceback above)", rid)
                response = _error_page(500, reference=rid)
            elif response.status_code >= 400 and isinstance(response.body, dict):
                response = _error_page(response.status_code)  # Chalice's own 405 or 415
    except LoginRequiredError as error:
        response = redirect(error.location, "Please log in to access this page.", "info")
    except PageError as error:
        response = _error_page(error.status, error.message)
        if error.retry_after:
            response.headers["Retry-After"] = error.retry_after
    except ServiceUnavailableError as error:
        log.warning("request %s: %s", rid, error)
        response = _error_page(503)
    except Exception as error:  # noqa: BLE001 - the last resort (a cookie no check foresaw): logged, our 500 page
        log_failure(rid, error)
        response = _error_page(500, reference=rid)
    cookies = visit.outgoing_cookies()
    if cookies:
        response.headers["Set-Cookie"] = cookies if len(cookies) > 1 else cookies[0]
    _security_headers(response)
    response.headers["X-Request-Id"] = rid
    return response


def create_web_app(app_name: str) -> Chalice:
    app = new_app(app_name)
    app.api.binary_types.append("multipart/form-data")
    app.register_middleware(_handle, "http")
    return app
