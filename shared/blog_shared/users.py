"""The shape of a user in every API's JSON (user_api's responses, post authors)."""

from __future__ import annotations

import unicodedata
from typing import Any

from marshmallow import Schema, fields

from .avatars import avatar_url
from .models import User


def canonical_email(address: str) -> str:
    """How addresses are compared (unique per account, looked up at login): the normalised
    address, in NFC, lower-cased, computed here and only compared for equality in SQL."""
    return unicodedata.normalize("NFC", address.strip()).lower()


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    email = fields.String(metadata={"description": "Only shown to the user themself."})
    from_oauth = fields.Boolean()
    image_filename = fields.String(allow_none=True)
    image_url = fields.Method("_image_url")
    following_count = fields.Integer()
    follower_count = fields.Integer()
    email_confirmed = fields.Method(
        "_email_confirmed",
        metadata={"description": "Whether the address was confirmed from its mail. Only shown to the user themself."},
    )
    email_notifications = fields.Boolean(
        metadata={"description": "Mail me about likes, comments and followers. Only shown to the user themself."}
    )

    def _image_url(self, user: User) -> str:  # the schema documents; user_json builds
        return avatar_url(user.image_filename)

    def _email_confirmed(self, user: User) -> bool:
        return user.email_confirmed_at is not None


def user_json(user: User, viewer: User | None = None) -> dict[str, Any]:
    """User JSON as :class:`UserSchema` documents it (built by hand: every post in a list
    carries its author); ``email``, ``email_confirmed`` and ``email_notifications`` only when
    the viewer is the user."""
    data: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "from_oauth": user.from_oauth,
        "image_filename": user.image_filename,
        "image_url": avatar_url(user.image_filename),
        "following_count": user.following_count,
        "follower_count": user.follower_count,
    }
    if viewer is not None and viewer.id == user.id:
        data["email"] = user.email
        data["email_confirmed"] = user.email_confirmed_at is not None
        data["email_notifications"] = user.email_notifications
    return data
