"""The shape of a user in every API's JSON (user_api's responses, post authors)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from .avatars import avatar_url
from .models import User


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    email = fields.String(metadata={"description": "Only shown to the user themself."})
    from_oauth = fields.Boolean()
    image_filename = fields.String(allow_none=True)
    image_url = fields.Method("_image_url")
    following_count = fields.Integer()
    follower_count = fields.Integer()
    email_notifications = fields.Boolean(
        metadata={"description": "Mail me about likes, comments and followers. Only shown to the user themself."}
    )

    def _image_url(self, user: User) -> str:
        return avatar_url(user.image_filename)


_public = UserSchema(exclude=("email", "email_notifications"))
_private = UserSchema()


def user_json(user: User, viewer: User | None = None) -> dict[str, Any]:
    """User JSON; ``email`` and ``email_notifications`` only when the viewer is the user."""
    data: dict[str, Any] = (_private if viewer is not None and viewer.id == user.id else _public).dump(user)
    return data
