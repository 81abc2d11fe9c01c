"""The error type every layer raises for a client-visible failure."""

from __future__ import annotations

from typing import Any

from chalice import ChaliceUnhandledError

UNAVAILABLE_MESSAGE = "The service is temporarily unavailable. Please try again shortly."


class ApiError(ChaliceUnhandledError):
    """Status code, message and optional field errors, turned into a JSON response by the
    middleware of ``blog_shared.http.create_api``. (A ChaliceUnhandledError, so Chalice lets
    it reach that middleware instead of answering 500 itself.)"""

    def __init__(
        self,
        status: int,
        message: str,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
