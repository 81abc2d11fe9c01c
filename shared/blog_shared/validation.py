"""Validating request bodies with marshmallow, the same way in every app."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields

from .errors import InvalidError
from .text import text_problem


class Trimmed(fields.String):
    """A string with surrounding whitespace removed before validation; one line unless
    ``multiline`` (then tabs and line breaks are kept), never other control characters (the
    OpenAPI description states this as a pattern: see ``blog_shared.openapi``)."""

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        # Checked before trimming, so that a one-line field refuses a line break at its end too.
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text, one_line=not self.multiline)
        if problem:
            raise ValidationError(problem)
        return text.strip()


class Boolean(fields.Boolean):
    """JSON's true or false, nothing else (marshmallow's own also takes 1, "yes", "on"...,
    which the OpenAPI description's boolean does not)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Integer(fields.Integer):
    """A JSON number without a fraction, nothing else (not "5", not 5.5; never true or false)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)


@cache
def _instance(schema_class: type[Schema]) -> Schema:
    # Schemas are costly to build and safe to reuse: one instance per class and container.
    return schema_class()


def load(schema_class: type[Schema], data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``data`` (unknown fields are refused unless the schema says otherwise); an
    InvalidError with the messages per field when it does not fit."""
    try:
        loaded: dict[str, Any] = _instance(schema_class).load(data)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise InvalidError("Invalid data provided.", errors=messages) from None
    return loaded
