"""What counts as storable text, for every app (no third-party imports: web_frontend's
artifact carries no marshmallow)."""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidError

# C0 controls and DEL; text may keep tabs and line breaks, one-line fields may not.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARACTERS = "Must not contain control characters."
INVALID_UNICODE = "Must be valid Unicode text."


def text_problem(value: str, one_line: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text (PostgreSQL refuses NUL and lone surrogates),
    or None when it can. ``one_line`` also refuses tabs and line breaks."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return INVALID_UNICODE
    if (_CONTROL_OR_BREAK if one_line else _CONTROL).search(value):
        return CONTROL_CHARACTERS
    return None


MAX_DEPTH = 16  # no body of ours nests deeper than a few levels


def check_strings(value: Any, depth: int = 0) -> None:
    """Refuse a decoded JSON value nested deeper than ``MAX_DEPTH`` or holding a string (key or
    value) that is not storable text (see :func:`text_problem`)."""
    if depth > MAX_DEPTH:
        raise InvalidError("Request body is nested too deeply.")
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise InvalidError(f"Request body text: {problem}")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_strings(key, depth + 1)
            check_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_strings(item, depth + 1)
