"""Profile pictures: checked by content (JPEG, PNG or WebP, at most 2 MB), cropped and
resized to 256x256 with Pillow, stored in S3 (AVATAR_BUCKET) under a generated key."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

from blog_shared import aws
from blog_shared.avatars import is_own_avatar_key, new_avatar_key
from blog_shared.config import get_settings

log = logging.getLogger("blog.web")
MAX_BYTES = 2 * 1024 * 1024
SIZE = (256, 256)
FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 12_000_000  # a 12-megapixel photo decodes in ~50 MB; bombs are refused before


@dataclass(frozen=True)
class Rejected:
    reason: str


def _s3() -> Any:
    return aws.client("s3")


def resize(content: bytes) -> bytes | Rejected:
    """A 256x256 JPEG of the picture, or why it was refused."""
    if len(content) > MAX_BYTES:
        return Rejected("The picture is larger than 2 MB.")
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in FORMATS:
                return Rejected("Please upload a JPEG, PNG or WebP picture.")
            if image.width * image.height > MAX_PIXELS:
                return Rejected("The picture has too many pixels.")
            image.draft("RGB", (1024, 1024))  # JPEG: decode at a reduced size directly
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((1024, 1024))
            square = ImageOps.fit(upright.convert("RGBA"), SIZE, Image.Resampling.LANCZOS)
            flat = Image.new("RGB", SIZE, (255, 255, 255))
            flat.paste(square, mask=square.getchannel("A"))
            out = io.BytesIO()
            flat.save(out, "JPEG", quality=88, optimize=True)
            return out.getvalue()
    # Pillow reports a damaged file in many ways (OSError, ValueError, SyntaxError from corrupt
    # EXIF, struct errors, ...): any of them means the upload is not a picture we can read.
    except Exception:  # noqa: BLE001 - see above: the user gets a 400 with the reason
        return Rejected("That file is not a picture we can read (JPEG, PNG or WebP).")


def store(content: bytes, user_id: int) -> str | Rejected:
    """Resize and upload; returns the new object key (the user's image_filename)."""
    resized = resize(content)
    if isinstance(resized, Rejected):
        return resized
    key = new_avatar_key(user_id)
    _s3().put_object(
        Bucket=get_settings().avatar_bucket,
        Key=key,
        Body=resized,
        ContentType="image/jpeg",
        CacheControl="public, max-age=31536000, immutable",
    )
    return key


def delete(key: str | None, user_id: int) -> None:
    """Remove a picture of this user that is no longer used (a failure only leaves an orphan)."""
    if not is_own_avatar_key(key, user_id):
        return
    try:
        _s3().delete_object(Bucket=get_settings().avatar_bucket, Key=key)
    except Exception as error:  # noqa: BLE001 - never fail the user's update over a cleanup
        log.warning("could not delete old avatar %s: %s", key, error)
