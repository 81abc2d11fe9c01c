"""Input of /password-reset."""

from marshmallow import Schema, fields, validate

from blog_shared.validation import Trimmed

from ..users.schemas import EMAIL, PASSWORD

TOKEN = validate.Length(min=1, max=4096, error="Not a valid token.")


class ResetRequestSchema(Schema):
    email = Trimmed(required=True, validate=EMAIL)


class ResetTokenSchema(Schema):
    token = fields.String(required=True, validate=TOKEN)


class ResetPasswordSchema(Schema):
    token = fields.String(required=True, validate=TOKEN)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
