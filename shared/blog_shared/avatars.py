"""Where a user's picture can be fetched from (the ``image_url`` of user JSON)."""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

from .config import get_settings

# A neutral silhouette, inlined so that every client can show it without another request
# (only "#" needs escaping in an SVG data URL that browsers accept).
DEFAULT_AVATAR_URL = (
    "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'>"
    "<rect width='8' height='8' fill='%23dfe4ea'/><circle cx='4' cy='3' r='1.6' fill='%238795a1'/>"
    "<path d='M1 8c0-2 1.4-3 3-3s3 1 3 3z' fill='%238795a1'/></svg>"
)


def avatar_url(image_filename: str | None) -> str:
    base = get_settings().avatar_base_url
    if image_filename and base:
        return f"{base}/{quote(image_filename)}"
    return DEFAULT_AVATAR_URL


def new_avatar_key(user_id: int) -> str:
    """A fresh, unguessable object key for a user's picture."""
    return f"avatars/{user_id}-{secrets.token_hex(8)}.jpg"


def is_own_avatar_key(key: str | None, user_id: int) -> bool:
    """True for a key made by :func:`new_avatar_key` for this user (so nobody can point their
    profile at, and later delete, someone else's picture)."""
    return bool(key) and re.fullmatch(rf"avatars/{user_id}-[0-9a-f]{{16}}\.jpg", key or "") is not None
