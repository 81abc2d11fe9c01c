"""Domain errors: what data access and the rules raise when a request cannot be done. They
know nothing of HTTP; ``blog_shared.http`` turns each kind into its answer, in one place."""

from __future__ import annotations

from typing import Self

UNAVAILABLE_MESSAGE = "The service is temporarily unavailable. Please try again shortly."

FieldErrors = dict[str, list[str]]


class DomainError(Exception):
    """A message for the caller, and optionally messages per input field."""

    def __init__(self, message: str, errors: FieldErrors | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors

    @classmethod
    def field(cls, name: str, message: str) -> Self:
        """The error of one input field, with the field's message as the main message too."""
        return cls(message, errors={name: [message]})


class InvalidError(DomainError):
    """The input breaks a rule (malformed, out of range, taken)."""


class PayloadTooLargeError(DomainError):
    """The request body is larger than the limit."""


class UnauthenticatedError(DomainError):
    """No valid credentials, where they are needed."""


class ForbiddenError(DomainError):
    """The caller is known but may not do this."""


class NotFoundError(DomainError):
    """What the request names does not exist (or is not visible to the caller)."""


class ConflictError(DomainError):
    """The request clashes with the current state (e.g. an account that exists already)."""


class ThrottledError(DomainError):
    """Too many attempts: try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnavailableError(DomainError):
    """A service we depend on (the database) cannot be reached right now."""

    def __init__(self, message: str = UNAVAILABLE_MESSAGE, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
