"""Input of /user-auth."""

from marshmallow import Schema, fields, validate

from blog_shared.validation import Boolean, Trimmed


class LoginSchema(Schema):
    email = Trimmed(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))
    remember = Boolean(load_default=False)


class LegacyLoginSchema(Schema):
    """The seed's ``GET /user-auth?email=`` carries only the password in its body."""

    password = fields.String(required=True, validate=validate.Length(min=1, max=128))
    remember = Boolean(load_default=False)


class LegacyLoginQuerySchema(Schema):
    """The query string of the seed's ``GET /user-auth`` (other parameters are ignored)."""

    class Meta:
        unknown = "exclude"

    email = fields.String(
        required=True,
        validate=validate.Length(min=1, max=254, error="Email must be 1 to 254 characters long."),
        error_messages={"required": "Email argument not provided"},
        metadata={"description": "The account's email."},
    )
