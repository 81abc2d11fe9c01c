"""The OpenAPI description states the rules the code enforces (blog_shared.openapi): what
tests/test_fuzz.py holds both APIs to, checked here on a small app without any server."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from chalice.app import Chalice, Response
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from blog_shared.openapi import build_spec, doc
from blog_shared.text import text_pattern, text_problem
from blog_shared.validation import Boolean, Integer, Trimmed

NAME = validate.And(validate.Length(min=2, max=20), validate.Regexp(r"^[a-z]+$"))


class Body(Schema):
    OPENAPI_RULES: ClassVar[dict[str, Any]] = {"minProperties": 1}

    name = Trimmed(validate=NAME)
    title = Trimmed(validate=validate.Length(min=1, max=100))
    content = Trimmed(multiline=True)
    secret = fields.String()
    email = Trimmed(validate=validate.Email())
    flag = Boolean()
    number = Integer()

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Provide something.")


class Optional(Schema):
    number = Integer()


class Query(Schema):
    q = fields.String()


def spec() -> dict[str, Any]:
    app = Chalice("rules")

    @app.route("/things/{thing_id}", methods=["PUT"])
    @doc("Change a thing", body=Body, errors=(403,), auth="required")
    def change(thing_id: str) -> Response:
        return Response(body="")

    @app.route("/things", methods=["POST", "GET"])
    @doc("Add a thing", body=Optional, query=Query, status=(200, 201))
    def add() -> Response:
        return Response(body="")

    @app.route("/plain", methods=["GET"])
    @doc("No database", database=False)
    def plain() -> Response:
        return Response(body="")

    return build_spec(app, "rules")


def test_field_rules_are_stated_also_inside_validate_and() -> None:
    properties = spec()["components"]["schemas"]["Body"]["properties"]
    assert {key: properties["name"][key] for key in ("minLength", "maxLength", "pattern")} == {
        "minLength": 2,
        "maxLength": 20,
        "pattern": "^[a-z]+$",
    }
    assert "Whitespace around it is removed first" in properties["name"]["description"]
    assert properties["title"]["pattern"] == text_pattern(one_line=True, blank=False)
    assert properties["content"]["pattern"] == text_pattern()
    assert properties["secret"]["pattern"] == text_pattern()
    assert properties["email"]["format"] == "email" and "@" in properties["email"]["pattern"]
    assert properties["flag"]["type"] == "boolean" and properties["number"]["type"] == "integer"


def test_rules_across_fields_and_whether_a_body_is_needed() -> None:
    document = spec()
    assert document["components"]["schemas"]["Body"]["minProperties"] == 1
    assert document["paths"]["/things/{thing_id}"]["put"]["requestBody"]["required"] is True
    assert document["paths"]["/things"]["post"]["requestBody"]["required"] is False  # {} is valid


def test_statuses_of_the_shared_machinery_are_added() -> None:
    paths = spec()["paths"]
    assert set(paths["/things/{thing_id}"]["put"]["responses"]) == {"200", "400", "401", "403", "404", "413", "503"}
    assert set(paths["/things"]["post"]["responses"]) == {"200", "201", "400", "413", "503"}
    assert set(paths["/plain"]["get"]["responses"]) == {"200"}


def test_query_values_are_one_line() -> None:
    [parameter] = spec()["paths"]["/things"]["get"]["parameters"]
    assert parameter["schema"]["pattern"] == text_pattern(one_line=True)


@pytest.mark.parametrize("one_line", [True, False])
@pytest.mark.parametrize("blank", [True, False])
def test_the_text_patterns_are_the_text_rules(one_line: bool, blank: bool) -> None:
    pattern = re.compile(text_pattern(one_line=one_line, blank=blank))
    for code in [*range(0x100), 0x1680, 0x2000, 0x2028, 0x202F, 0x3000, 0xFEFF, 0x1F600]:
        value = f"a{chr(code)}b" if blank else chr(code)
        accepted = text_problem(value, one_line=one_line) is None and (blank or bool(value.strip()))
        assert (pattern.fullmatch(value) is not None) == accepted, hex(code)


def test_request_values_are_json_types_only() -> None:
    body = Body()
    assert body.load({"flag": True, "number": 5}) == {"flag": True, "number": 5}
    for wrong in ({"flag": 1}, {"flag": "true"}, {"number": "5"}, {"number": True}, {"number": 5.5}):
        with pytest.raises(ValidationError):
            body.load(wrong)


def test_a_one_line_field_refuses_a_line_break_even_at_its_end() -> None:
    assert Body().load({"title": "  Hello "}) == {"title": "Hello"}
    assert Body().load({"content": "two\nlines\n"}) == {"content": "two\nlines"}
    with pytest.raises(ValidationError):
        Body().load({"title": "Hello\n"})
