"""Validating request bodies with marshmallow, the same way in every app."""

from __future__ import annotations

from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields

from .errors import ApiError


class Trimmed(fields.String):
    """A string with surrounding whitespace removed before validation."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


@cache
def _instance(schema_class: type[Schema]) -> Schema:
    # Schemas are costly to build and safe to reuse: one instance per class and container.
    return schema_class()


def load(schema_class: type[Schema], data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data`` (unknown fields are refused); a 400 with field messages when it does not fit."""
    try:
        return _instance(schema_class).load(data)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise ApiError(400, "Invalid data provided.", errors=messages) from None
