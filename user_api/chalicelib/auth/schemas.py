"""Input of /user-auth."""

from marshmallow import Schema, fields, validate

from blog_shared.validation import Trimmed


class LoginSchema(Schema):
    email = Trimmed(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))
    remember = fields.Boolean(load_default=False)


class LegacyLoginSchema(Schema):
    """The seed's ``GET /user-auth?email=`` carries only the password in its body."""

    password = fields.String(required=True, validate=validate.Length(min=1, max=128))
    remember = fields.Boolean(load_default=False)


class LegacyLoginQuerySchema(Schema):
    """The query string of the seed's ``GET /user-auth`` (other parameters are ignored)."""

    class Meta:
        unknown = "exclude"

    email = fields.String(
        validate=validate.Length(max=254, error="Email must be at most 254 characters long."),
        metadata={"description": "The account's email."},
    )
