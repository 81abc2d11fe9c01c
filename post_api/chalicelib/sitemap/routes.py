"""/sitemap: the parts the site's sitemap lists, each a range of post or user ids."""

from __future__ import annotations

from urllib.parse import quote

from chalice.app import Response
from marshmallow import Schema, fields

from blog_shared.config import get_settings
from blog_shared.deps import request_scope
from blog_shared.errors import NotFoundError
from blog_shared.http import ApiBlueprint, path_id, success
from blog_shared.openapi import doc

from ..posts.schemas import iso
from . import store

bp = ApiBlueprint(__name__)
NO_PART = "No such sitemap part"


class SitemapSchema(Schema):
    post_parts = fields.Integer(metadata={"description": "GET /sitemap/posts/<1..post_parts>"})
    user_parts = fields.Integer(metadata={"description": "GET /sitemap/users/<1..user_parts>"})
    part_size = fields.Integer(metadata={"description": "Ids per part (so addresses per part, at most)"})


class SitemapEntrySchema(Schema):
    url = fields.String(metadata={"description": "The page on the site"})
    lastmod = fields.String(allow_none=True, metadata={"description": "ISO 8601, UTC"})


class SitemapPartSchema(Schema):
    urls = fields.List(fields.Nested(SitemapEntrySchema))


@bp.route("/sitemap", methods=["GET"])
@doc("How many parts the sitemap has", response=SitemapSchema)
def sitemap() -> Response:
    with request_scope(bp) as scope:
        posts, users = store.part_counts(scope.db)
    return success({"post_parts": posts, "user_parts": users, "part_size": store.PART_SIZE})


@bp.route("/sitemap/posts/{part}", methods=["GET"])
@doc("The public posts of one part of the sitemap (by id)", response=SitemapPartSchema, errors=(404,))
def sitemap_posts(part: str) -> Response:
    site = get_settings().public_url
    with request_scope(bp) as scope:
        rows = store.posts_in_part(scope.db, _part(part))
    return success(
        {"urls": [{"url": f"{site}/posts/{i}/{slug}", "lastmod": iso(changed)} for i, slug, changed in rows]}
    )


@bp.route("/sitemap/users/{part}", methods=["GET"])
@doc("The users' pages of one part of the sitemap (by id)", response=SitemapPartSchema, errors=(404,))
def sitemap_users(part: str) -> Response:
    site = get_settings().public_url
    with request_scope(bp) as scope:
        names = store.users_in_part(scope.db, _part(part))
    return success({"urls": [{"url": f"{site}/users/{quote(name)}/posts", "lastmod": None} for name in names]})


def _part(raw: str) -> int:
    number = path_id(raw, NO_PART)
    if number > 2**31 // store.PART_SIZE:
        raise NotFoundError(NO_PART)
    return number
