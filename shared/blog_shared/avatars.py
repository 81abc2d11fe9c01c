"""Where a user's picture can be fetched from (the ``image_url`` of user JSON)."""

from __future__ import annotations

from urllib.parse import quote

from .config import get_settings

# A neutral silhouette, inlined so that every client can show it without another request.
DEFAULT_AVATAR_URL = "data:image/svg+xml;utf8," + quote(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect width="64" height="64" fill="#dfe4ea"/>'
    '<circle cx="32" cy="25" r="12" fill="#8795a1"/>'
    '<path d="M10 60c2-13 11-20 22-20s20 7 22 20z" fill="#8795a1"/></svg>'
)


def avatar_url(image_filename: str | None) -> str:
    base = get_settings().avatar_base_url
    if image_filename and base:
        return f"{base}/{quote(image_filename)}"
    return DEFAULT_AVATAR_URL
