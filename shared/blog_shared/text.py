"""What counts as storable text, for every app (no third-party imports: web_frontend's
artifact carries no marshmallow)."""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidError

# C0 controls and DEL; text may keep tabs and line breaks, one-line fields may not. Also
# U+FFFE and U+FFFF, which are not characters: XML (the feeds) cannot hold them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f\ufffe\uffff]")
CONTROL_CHARACTERS = "Must not contain control characters (or U+FFFE, U+FFFF)."
INVALID_UNICODE = "Must be valid Unicode text."

# The same rules as JSON Schema patterns, for the OpenAPI descriptions (the Unicode rule has
# none: JSON text that is not Unicode is outside what a JSON Schema describes).
_TEXT_CHARACTER = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]"
_ONE_LINE_CHARACTER = r"[^\x00-\x1f\x7f\ufffe\uffff]"
# Neither a control character nor whitespace that str.strip() removes.
_VISIBLE_CHARACTER = r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def text_pattern(one_line: bool = False, blank: bool = True) -> str:
    """The pattern of storable text (see :func:`text_problem`); unless ``blank``, with at least
    one character that is neither a control character nor whitespace."""
    character = _ONE_LINE_CHARACTER if one_line else _TEXT_CHARACTER
    if blank:
        return f"^{character}*$"
    return f"^{character}*{_VISIBLE_CHARACTER}{character}*$"


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
