"""Input validation and output shape of users."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from blog_shared.validation import Boolean, Trimmed

from .emails import AccountEmail

USERNAME = validate.And(
    validate.Length(min=2, max=20, error="Username must be 2 to 20 characters long."),
    validate.Regexp(
        r"^[A-Za-z0-9_.\-]+$", error="Username may only contain letters, digits, underscores, dots and hyphens."
    ),
)
EMAIL = validate.And(
    validate.Length(max=254, error="Email must be at most 254 characters long."),
    validate.Email(error="Not a valid email address."),
)
PASSWORD = validate.Length(min=8, max=128, error="Password must be 8 to 128 characters long.")
# A key web_frontend made for a picture (blog_shared.avatars.new_avatar_key); the store
# checks that it is one of this user's.
IMAGE_FILENAME = validate.Regexp(r"^avatars/[0-9]{1,10}-[0-9a-f]{16}\.jpg$", error="Not a valid image file name.")


class UserCreateSchema(Schema):
    username = Trimmed(required=True, validate=USERNAME)
    email = AccountEmail(required=True, validate=EMAIL)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)


class UserUpdateSchema(Schema):
    OPENAPI_RULES: ClassVar[dict[str, Any]] = {"minProperties": 1}  # see _not_empty

    username = Trimmed(validate=USERNAME)
    email = AccountEmail(validate=EMAIL)
    image_filename = Trimmed(validate=IMAGE_FILENAME, allow_none=True)
    password = fields.String(load_only=True, validate=PASSWORD)
    current_password = fields.String(load_only=True, validate=validate.Length(max=128))
    email_notifications = Boolean()

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError(
                "Provide at least one of username, email, image_filename, password, email_notifications."
            )


class OAuthUserSchema(Schema):
    """What web_frontend learned from Google or GitHub (the email is verified there)."""

    provider = fields.String(required=True, validate=validate.OneOf(["google", "github"]))
    email = AccountEmail(required=True, validate=EMAIL)
    username_hint = fields.String(load_default="", validate=validate.Length(max=100))
    remember = Boolean(load_default=False)


class UnsubscribeSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=4096, error="Not a valid token."))


class LinkTokenSchema(Schema):
    """The token of a link mailed about an address."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=4096, error="Not a valid token."))


class UserQuerySchema(Schema):
    """The query string of GET /users: one of username or email (other parameters are ignored)."""

    class Meta:
        unknown = "exclude"

    username = fields.String(validate=validate.Length(min=1, max=254), metadata={"description": "The user's name."})
    email = fields.String(
        validate=validate.Length(min=1, max=254),
        metadata={"description": "The user's email (needs that user's token)."},
    )
