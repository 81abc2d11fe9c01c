"""Input validation and output shape of posts."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from blog_shared.config import get_settings
from blog_shared.http import MAX_ID, MAX_PAGE
from blog_shared.models import Comment, User
from blog_shared.users import UserSchema, user_json
from blog_shared.validation import Integer, Trimmed

from . import writing
from .store import DRAFT, PUBLISHED, SCHEDULED, STATUSES, Position, PostRow

MAX_PER_PAGE = 50
MAX_WITH_HTML = 20  # a page with each post's HTML stays within a few megabytes
WITH_HTML_PAGE = f"With with_html, at most {MAX_WITH_HTML} posts a page."
UNPUBLISHED_NEED_AUTHOR = "Drafts and scheduled posts are listed with author (your own username)."
MAX_CURSOR = 200
DEFAULT_PER_PAGE = 10
COMMENTS_PER_PAGE = 20

TITLE = validate.Length(min=1, max=100, error="Title must be 1 to 100 characters long.")
MAX_TAGS = 10
MAX_TAG_LIST = 100
MAX_SEARCH = 200
TAG_PATTERN = r"^[A-Za-z0-9-]{1,30}$"
TAG_ERROR = "A tag is 1 to 30 letters, digits or hyphens."
TAG = validate.Regexp(TAG_PATTERN, error=TAG_ERROR)
CONTENT = validate.Length(min=1, max=20000, error="Content must be 1 to 20,000 characters long.")


class Tags(fields.Field[list[str]]):
    """Up to ``MAX_TAGS`` tags, compared and stored lower-case, each once (one message for the
    field, as for any other)."""

    def __init__(self, **kwargs: Any) -> None:
        item = {"type": "string", "minLength": 1, "maxLength": 30, "pattern": TAG_PATTERN}
        description = f"Up to {MAX_TAGS} tags: letters, digits and hyphens, any case (stored lower-case)"
        metadata = {"type": "array", "items": item, "maxItems": MAX_TAGS, "description": description}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            raise ValidationError("Tags are a list of strings.")
        if len(value) > MAX_TAGS:  # as the description says, repeats included
            raise ValidationError(f"At most {MAX_TAGS} tags.")
        if not all(re.fullmatch(TAG_PATTERN, tag) for tag in value):
            raise ValidationError(TAG_ERROR)
        return list(dict.fromkeys(tag.lower() for tag in value))


MAX_SCHEDULE_AHEAD = timedelta(days=366)
STATUS = fields.String(
    validate=validate.OneOf(STATUSES, error="status is draft, scheduled or published."),
    metadata={
        "description": "published (public now), draft (only you see it) or scheduled (public at publish_at)",
        "enum": list(STATUSES),
    },
)
PUBLISH_AT = fields.AwareDateTime(
    metadata={"description": "With status scheduled: when it goes live (ISO 8601 with a time zone, within a year)"}
)


# publish_at exactly when status is scheduled (OpenAPI 3.0 has no if/then: one of two shapes).
SCHEDULE_RULE = {
    "oneOf": [
        {"required": ["status", "publish_at"], "properties": {"status": {"enum": [SCHEDULED]}}},
        {"not": {"required": ["publish_at"]}, "properties": {"status": {"enum": [DRAFT, PUBLISHED]}}},
    ]
}
SCHEDULE_TOO_EARLY = "publish_at is a time in the future, within a year."


def check_schedule(data: dict[str, Any]) -> None:
    """A scheduled post needs a publish_at in the coming year; no other status takes one."""
    scheduled = data.get("status") == SCHEDULED
    if "publish_at" in data and not scheduled:
        raise ValidationError("publish_at goes with status scheduled.", "publish_at")
    if not scheduled:
        return
    when = data.get("publish_at")
    if when is None:
        raise ValidationError("A scheduled post needs publish_at.", "publish_at")
    now = datetime.now(UTC)
    if not now < when <= now + MAX_SCHEDULE_AHEAD:
        raise ValidationError(SCHEDULE_TOO_EARLY, "publish_at")


class PostCreateSchema(Schema):
    OPENAPI_RULES: ClassVar[dict[str, Any]] = SCHEDULE_RULE

    user_id = Integer(metadata={"description": "Optional; must be the token's user."})
    title = Trimmed(required=True, validate=TITLE)
    content = Trimmed(required=True, validate=CONTENT, multiline=True)
    tags = Tags(load_default=list)
    status = STATUS
    publish_at = PUBLISH_AT

    @validates_schema
    def _schedule(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_schedule(data)


class PreviewSchema(Schema):
    content = Trimmed(required=True, validate=CONTENT, multiline=True)


class PreviewOutSchema(Schema):
    content_html = fields.String(metadata={"description": "As the post would show it (rendered, sanitised)"})
    excerpt = fields.String()


class PostUpdateSchema(Schema):
    OPENAPI_RULES: ClassVar[dict[str, Any]] = {
        "anyOf": [{"required": [name]} for name in ("title", "content", "tags", "status")],
        **SCHEDULE_RULE,
    }

    user_id = Integer(metadata={"description": "Optional; must be the token's user."})
    title = Trimmed(validate=TITLE)
    content = Trimmed(validate=CONTENT, multiline=True)
    tags = Tags()
    status = STATUS
    publish_at = PUBLISH_AT

    @validates_schema
    def _something_to_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not {"title", "content", "tags", "status"} & set(data):
            raise ValidationError("Provide a title, a content, tags, a status or any of them.")
        check_schedule(data)


def encode_cursor(position: Position) -> str:
    """The opaque ``next_cursor`` of a page that ends at ``position``."""
    raw = json.dumps([position.date_posted.astimezone(UTC).isoformat(), position.row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor from :func:`encode_cursor` stands for; ValidationError otherwise."""
    invalid = ValidationError("Not a cursor from this API.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, row_id = json.loads(raw)
        when = datetime.fromisoformat(moment)
        valid_id = isinstance(row_id, int) and not isinstance(row_id, bool) and 0 < row_id <= MAX_ID
        if when.tzinfo is None or not valid_id:
            raise invalid
        # In UTC and within what PostgreSQL and the driver can carry.
        position = Position(when.astimezone(UTC), row_id)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise invalid from None
    if not 1 < position.date_posted.year < 9999:
        raise invalid
    return position


class Cursor(fields.Field[Position]):
    """A page's ``next_cursor`` (a string), loaded as the :class:`Position` it stands for."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Position:
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_CURSOR:
            raise ValidationError("Not a cursor from this API.")
        return decode_cursor(value)


class PostListQuerySchema(Schema):
    """The query string of GET /posts (other parameters are ignored)."""

    class Meta:
        unknown = "exclude"

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(
            min=1,
            max=MAX_PAGE,
            error=f"Page numbers go from 1 to {MAX_PAGE}; to read further, follow next_cursor (?cursor=).",
        ),
        metadata={"description": f"Page number, from 1 to {MAX_PAGE} (further on, use cursor)."},
    )
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1),
        metadata={"description": f"Posts per page (at most {MAX_PER_PAGE} are returned)."},
    )
    user = fields.String(
        validate=validate.Length(min=1, max=20),
        metadata={"description": "Your own username: your posts and those of everyone you follow (needs your token)."},
    )
    author = fields.String(validate=validate.Length(min=1, max=20), metadata={"description": "Only this user's posts."})
    status = fields.String(
        load_default=PUBLISHED,
        validate=validate.OneOf(STATUSES, error="status is draft, scheduled or published."),
        metadata={
            "description": "With author: draft or scheduled lists that author's unpublished posts "
            "(only with the author's own token).",
            "enum": list(STATUSES),
        },
    )
    tag = fields.String(validate=TAG, metadata={"description": "Only posts with this tag (any case)."})
    q = fields.String(
        validate=validate.Length(min=1, max=MAX_SEARCH, error=f"Search for 1 to {MAX_SEARCH} characters."),
        metadata={
            "description": "Search titles, tags and bodies (English stemming; quotes for phrases, or, -word); "
            "best matches first, each post with a highlight. Paged by page number (no cursor)."
        },
    )
    with_html = fields.Boolean(
        load_default=False,
        metadata={
            "description": f"Include each post's content_html (at most {MAX_WITH_HTML} posts a page): for feeds."
        },
    )
    cursor = Cursor(
        metadata={
            "description": "Continue after the page that returned this next_cursor (page is then ignored).",
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_CURSOR,
        },
    )

    @validates_schema
    def _one_filter(self, data: dict[str, Any], **kwargs: Any) -> None:
        if len({"user", "author", "tag", "q"} & set(data)) > 1:
            raise ValidationError("Use one of user, author, tag and q.")
        if "q" in data and "cursor" in data:
            raise ValidationError("Search results are paged by page number, not by cursor.")
        if data.get("with_html") and data.get("per_page", DEFAULT_PER_PAGE) > MAX_WITH_HTML:
            raise ValidationError(WITH_HTML_PAGE, "per_page")
        if data.get("status", PUBLISHED) != PUBLISHED and "author" not in data:
            raise ValidationError(UNPUBLISHED_NEED_AUTHOR, "status")


class CommentListQuerySchema(Schema):
    """The query string of GET /posts/<id>/comments."""

    class Meta:
        unknown = "exclude"

    per_page = fields.Integer(
        load_default=COMMENTS_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": "Comments per page."},
    )
    cursor = Cursor(
        metadata={
            "description": "Continue after the page that returned this next_cursor.",
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_CURSOR,
        },
    )


class CommentSchema(Schema):
    id = fields.Integer()
    author_id = fields.Integer()
    author_name = fields.String()
    text = fields.String()
    date_posted = fields.String()


class PostSchema(Schema):
    """Documentation of the post JSON that :func:`post_json` builds."""

    id = fields.Integer()
    author = fields.Nested(UserSchema)
    title = fields.String()
    content = fields.String(metadata={"description": "Markdown (CommonMark, tables, strikethrough), as written"})
    content_html = fields.String(
        metadata={
            "description": "content rendered and sanitised: safe to put in a page as it is. "
            "Not in lists: on GET /posts/<id> and the answers of writes"
        }
    )
    excerpt = fields.String(
        metadata={
            "description": f"Plain text (not HTML: escape it), at most {writing.EXCERPT_LENGTH} characters",
            "maxLength": writing.EXCERPT_LENGTH,
        }
    )
    slug = fields.String(metadata={"description": "From the title, ASCII: the post's page is /posts/<id>/<slug>"})
    tags = fields.List(fields.String(), metadata={"description": "Lower-case"})
    status = fields.String(
        metadata={"description": "published, draft or scheduled (until publish_at)", "enum": list(STATUSES)}
    )
    publish_at = fields.String(
        allow_none=True, metadata={"description": "When a scheduled post goes live (ISO 8601, UTC); else null"}
    )
    url = fields.String(metadata={"description": "The post's page on the site (its canonical address)"})
    highlight = fields.String(
        metadata={"description": "Only in search results: the content around the matches, HTML with <mark>"}
    )
    date_posted = fields.String(metadata={"description": "ISO 8601, UTC: when it went (or goes) live"})
    updated_at = fields.String(allow_none=True)
    likes = fields.Integer()
    comments_count = fields.Integer()
    liked_by_me = fields.Boolean(metadata={"description": "Only when a token is sent"})
    comments = fields.List(
        fields.Nested(CommentSchema),
        metadata={"description": f"Only on GET /posts/<id>: the newest {COMMENTS_PER_PAGE} comments, newest first"},
    )
    comments_next_cursor = fields.String(
        allow_none=True,
        metadata={"description": "Only on GET /posts/<id>: the cursor of GET /posts/<id>/comments for older ones"},
    )


class CommentPageSchema(Schema):
    comments = fields.List(fields.Nested(CommentSchema), metadata={"description": "Newest first"})


class TagListQuerySchema(Schema):
    class Meta:
        unknown = "exclude"

    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_TAG_LIST),
        metadata={"description": f"How many tags (at most {MAX_TAG_LIST})."},
    )


class TagSchema(Schema):
    name = fields.String()
    post_count = fields.Integer()


class TagListSchema(Schema):
    tags = fields.List(fields.Nested(TagSchema), metadata={"description": "Most used first"})


class PaginationMetaSchema(Schema):
    page = fields.Integer(allow_none=True)
    per_page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class PostListSchema(Schema):
    user_data = fields.Nested(UserSchema, allow_none=True)
    posts = fields.List(fields.Nested(PostSchema))


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def post_json(row: PostRow, viewer: User | None, with_html: bool = True) -> dict[str, Any]:
    """Post JSON (built by hand: it is on the hot path of every list). Lists leave out
    ``content_html`` (``with_html``): a page of 50 posts stays around a megabyte."""
    post = row.post
    status = row.status
    data: dict[str, Any] = {
        "id": post.id,
        "author": user_json(row.author, viewer),
        "title": post.title,
        "content": post.content,
        **({"content_html": post.content_html} if with_html else {}),
        "excerpt": post.excerpt,
        "slug": post.slug,
        "tags": list(post.tags),
        "status": status,
        "publish_at": iso(post.date_posted) if status == SCHEDULED else None,
        "url": f"{get_settings().public_url}/posts/{post.id}/{post.slug}",
        "date_posted": iso(post.date_posted),
        "updated_at": iso(post.updated_at),
        "likes": row.likes,
        "comments_count": row.comments_count,
    }
    if viewer is not None:
        data["liked_by_me"] = bool(row.liked_by_me)
    return data


def comment_json(comment: Comment, author_name: str) -> dict[str, Any]:
    return {
        "id": comment.id,
        "author_id": comment.user_id,
        "author_name": author_name,
        "text": comment.text,
        "date_posted": iso(comment.date_posted),
    }
