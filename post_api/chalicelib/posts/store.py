"""Database access for posts: pages of posts and the feed, one post, create/update/delete.

A page is one statement whatever its size: authors (with their follow counts), like
and comment counts and ``liked_by_me`` come back in the same row as the post. Totals
come from ``users.post_count``, kept in step with every insert and delete, so no request
counts the posts table.

The feed (``user=X``: X's posts and those of everyone X follows) takes, for each of
those authors, only their newest posts from the (user_id, date_posted, id) index and
merges them: its cost follows the number of authors and the page, not the table.
"""

from __future__ import annotations

import html
import typing
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    Select,
    String,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from blog_shared import publishing
from blog_shared.errors import ForbiddenError, InvalidError, NotFoundError
from blog_shared.models import Comment, Follow, Like, Post, Tag, User

from . import writing

NEWEST_FIRST = (Post.date_posted.desc(), Post.id.desc())


@dataclass(frozen=True)
class PostRow:
    post: Post
    author: User
    likes: int
    comments_count: int
    liked_by_me: bool | None
    live: bool  # public now (not a draft, and its time has come)

    @property
    def status(self) -> str:
        if self.post.draft:
            return DRAFT
        return PUBLISHED if self.live else SCHEDULED


DRAFT, SCHEDULED, PUBLISHED = "draft", "scheduled", "published"
STATUSES = (DRAFT, SCHEDULED, PUBLISHED)


@dataclass(frozen=True)
class Position:
    """Where a page of posts or comments ends in newest-first order: the keyset behind a
    cursor (the row's ``date_posted`` and ``id``)."""

    date_posted: datetime
    row_id: int


@lru_cache(maxsize=2)
def _post_rows(with_viewer: bool) -> Select[Any]:
    """Post, author and counts in one row; the counts use the likes/comments indexes.
    Statements are built once per container and take their values as parameters."""
    likes = select(func.count()).where(Like.post_id == Post.id).correlate(Post).scalar_subquery()
    comments = select(func.count()).where(Comment.post_id == Post.id).correlate(Post).scalar_subquery()
    liked = (
        exists().where(Like.post_id == Post.id, Like.user_id == bindparam("viewer_id", type_=Integer)).correlate(Post)
        if with_viewer
        else literal(None)
    )
    row = (Post, User, likes.label("likes"), comments.label("comments"), liked.label("liked"))
    return select(*row, Post.is_public().label("live")).join(User, User.id == Post.user_id)


def keyset_after(with_cursor: bool, date_col: Any, id_col: Any) -> Any:
    """Newest-first rows strictly after the cursor's position (the index's own order); the
    position comes as the parameters ``cursor_date`` and ``cursor_id`` (:func:`cursor_params`)."""
    if not with_cursor:
        return true()
    return tuple_(date_col, id_col) < tuple_(
        bindparam("cursor_date", type_=DateTime(timezone=True)), bindparam("cursor_id", type_=Integer)
    )


@cache
def _page_statement(mode: str, with_cursor: bool, with_viewer: bool, with_clock: bool) -> Select[Any]:
    if mode == "feed":
        authors = union_all(
            select(cast(bindparam("feed_of", type_=Integer), Integer).label("uid")),
            select(Follow.followed_id).where(Follow.follower_id == bindparam("feed_of", type_=Integer)),
        ).cte("authors")
        newest = (
            select(Post.id, Post.date_posted)
            .where(
                Post.user_id == authors.c.uid, Post.is_public(), keyset_after(with_cursor, Post.date_posted, Post.id)
            )
            .order_by(*NEWEST_FIRST)
            .limit(bindparam("newest_limit", type_=Integer))
            .lateral("newest")
        )
        page_ids = (
            select(newest.c.id, newest.c.date_posted)
            .select_from(authors)
            .join(newest, true())
            .order_by(newest.c.date_posted.desc(), newest.c.id.desc())
        )
    else:
        page_ids = select(Post.id, Post.date_posted).where(keyset_after(with_cursor, Post.date_posted, Post.id))
        if mode in (DRAFT, SCHEDULED):  # one author's own, unpublished
            page_ids = page_ids.where(Post.user_id == bindparam("author_id", type_=Integer), _unpublished(mode))
        else:
            page_ids = page_ids.where(Post.is_public())
        if mode == "author":
            page_ids = page_ids.where(Post.user_id == bindparam("author_id", type_=Integer))
        elif mode == "tag":  # the GIN index on tags
            tags = cast(bindparam("tags", type_=ARRAY(String(30))), ARRAY(String(30)))
            page_ids = page_ids.where(Post.tags.contains(tags))
        page_ids = page_ids.order_by(*NEWEST_FIRST)
    ids = page_ids.offset(bindparam("offset", type_=Integer)).limit(bindparam("limit", type_=Integer)).subquery("page")
    statement = _post_rows(with_viewer).join(ids, ids.c.id == Post.id).order_by(*NEWEST_FIRST)
    if mode in COUNTED_IN_PAGE:  # the total rides along (computed once): one statement less
        statement = statement.add_columns(COUNTED_IN_PAGE[mode].label("total"))
    if with_clock:  # a feed's: read in the page's own snapshot
        statement = statement.add_columns(publishing.FEED_CLOCK.scalar_subquery().label("clock"))
    return statement


def _unpublished(status: str) -> Any:
    """SQL: drafts (read along ix_posts_drafts), or posts scheduled for later."""
    return Post.draft if status == DRAFT else ~Post.draft & (Post.date_posted > func.now())


# Lists whose total is a count kept by writes, read in the page's own statement.
COUNTED_IN_PAGE = {
    "all": select(func.coalesce(func.sum(User.post_count), 0)).scalar_subquery(),
    "tag": func.coalesce(
        select(Tag.post_count).where(Tag.name == bindparam("tag_name", type_=String)).scalar_subquery(), 0
    ),
}


def cursor_params(position: Position | None) -> dict[str, Any]:
    return {} if position is None else {"cursor_date": position.date_posted, "cursor_id": position.row_id}


def page_query(
    viewer_id: int | None,
    per_page: int,
    *,
    offset: int = 0,
    position: Position | None = None,
    author_id: int | None = None,
    feed_of: int | None = None,
    tag: str | None = None,
    status: str = PUBLISHED,
    with_clock: bool = False,
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement and parameters for a page of public posts, newest first: all posts, one
    author's (``author_id``), a user's feed (``feed_of``) or a tag's (``tag``); or one
    author's drafts or scheduled posts (``status`` with ``author_id``). Continues after
    ``position`` (a cursor) or skips ``offset`` posts (a page number). ``with_clock`` adds the
    feed clock (see ``publishing.note_change``) to each row."""
    params: dict[str, Any] = {"limit": per_page, "offset": offset}
    if viewer_id is not None:
        params["viewer_id"] = viewer_id
    if position is not None:
        params.update(cursor_params(position))
    if feed_of is not None:
        mode = "feed"
        params.update(feed_of=feed_of, newest_limit=offset + per_page)
    elif author_id is not None:
        mode = "author" if status == PUBLISHED else status
        params["author_id"] = author_id
    elif tag is not None:
        mode = "tag"
        params.update(tags=[tag], tag_name=tag)
    else:
        mode = "all"
    return _page_statement(mode, position is not None, viewer_id is not None, with_clock), params


# Search ranks the newest SEARCH_WINDOW matches: a common word costs what a rarer one does.
SEARCH_WINDOW = 1000
# Around each match: the marks are characters posts cannot hold (control characters are
# refused), so after escaping they become the only markup of a highlight.
MARK_START, MARK_END = "\x02", "\x03"
_HEADLINE_OPTIONS = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=18, MinWords=6, MaxFragments=2"


def _search_query() -> Any:
    return func.websearch_to_tsquery(literal_column("'english'::regconfig"), bindparam("q", type_=String))


def _matching(query: Any) -> Any:
    """SQL: the public posts that match (along the GIN index on ``search``)."""
    return Post.search.bool_op("@@")(query) & Post.is_public()


@lru_cache(maxsize=2)
def _search_statement(with_viewer: bool) -> Select[Any]:
    query = _search_query()
    matches = (
        select(Post.id, Post.date_posted, func.ts_rank_cd(Post.search, query).label("rank"))
        .where(_matching(query))
        .order_by(*NEWEST_FIRST)
        .limit(SEARCH_WINDOW)
        .subquery("matches")
    )
    # The page's ids first, from the matches alone; only they are joined to their rows. The
    # matches are all ranked anyway: counting them too costs nothing more.
    page = (
        select(matches.c.id, matches.c.rank, func.count().over().label("total"))
        .order_by(matches.c.rank.desc(), matches.c.date_posted.desc(), matches.c.id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
        .subquery("page")
    )
    headline = func.ts_headline(literal_column("'english'::regconfig"), Post.content, query, _HEADLINE_OPTIONS)
    return (
        _post_rows(with_viewer)
        .add_columns(headline.label("highlight"), page.c.total)
        .join(page, page.c.id == Post.id)
        .order_by(page.c.rank.desc(), *NEWEST_FIRST)
    )


_SEARCH_TOTAL = select(func.count()).select_from(
    select(Post.id).where(_matching(_search_query())).limit(SEARCH_WINDOW).subquery()
)


def search_posts(
    db: Session, viewer_id: int | None, words: str, per_page: int, offset: int
) -> tuple[list[tuple[PostRow, str]], int]:
    """A page of the posts that match ``words`` (web search syntax: quotes, ``or``, ``-``),
    best first among the newest ``SEARCH_WINDOW`` matches, each with its highlight (the
    content around the matches, HTML-escaped, matches in ``<mark>``); and how many match (at
    most ``SEARCH_WINDOW``)."""
    params = {"q": words, "offset": offset, "limit": per_page, "viewer_id": viewer_id}
    rows = db.execute(_search_statement(viewer_id is not None), params).all()
    # A page past the last match carries no count: then it is counted on its own.
    total = int(rows[0].total) if rows else db.scalar(_SEARCH_TOTAL, {"q": words}) or 0
    return [(PostRow(*row[:6]), highlight_html(row[6])) for row in rows], total


def highlight_html(fragment: str) -> str:
    escaped = html.escape(" ".join(fragment.split()), quote=False)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def feed_last_modified(page: Page) -> str:
    """A feed's Last-Modified (ISO 8601): the later of the feed clock (any post written,
    deleted or taken back, any author renamed; read in the page's own snapshot) and its
    newest entry's publication (a scheduled post goes live with no write). It never goes
    backwards. An empty page says now (the site sends no date so fresh)."""
    if page.clock is None:
        return datetime.now(UTC).isoformat()
    return max([page.clock, *(row.post.date_posted for row in page.rows)]).isoformat()


@dataclass(frozen=True)
class Page:
    rows: list[PostRow]
    total: int | None  # all posts or a tag's, when the page has a row
    clock: datetime | None  # with_clock, when the page has a row


def list_posts(db: Session, viewer_id: int | None, per_page: int, **where: Any) -> Page:
    """A page of posts, newest first (see :func:`page_query` for the filters), with what rides
    along in its statement."""
    statement, params = page_query(viewer_id, per_page, **where)
    rows = db.execute(statement, params).all()
    extra = rows[0]._mapping if rows else {}
    total = int(extra["total"]) if "total" in extra else None
    return Page([PostRow(*row[:6]) for row in rows], total, extra.get("clock"))


# The same counts a page carries, on their own (for a page with no row to carry them).
_COUNTED_TOTALS = {mode: select(total) for mode, total in COUNTED_IN_PAGE.items()}


def counted_total(db: Session, tag: str | None) -> int:
    """How many public posts there are, or carry ``tag`` (from the counts writes keep)."""
    if tag is None:
        return db.scalar(_COUNTED_TOTALS["all"]) or 0
    return db.scalar(_COUNTED_TOTALS["tag"], {"tag_name": tag}) or 0


_POPULAR_TAGS = (
    select(Tag.name, Tag.post_count)
    .where(Tag.post_count > 0)
    .order_by(Tag.post_count.desc(), Tag.name)
    .limit(bindparam("limit", type_=Integer))
)


def popular_tags(db: Session, limit: int) -> list[tuple[str, int]]:
    """The most used tags, with their post counts (read from the counts, not the posts)."""
    return [(name, count) for name, count in db.execute(_POPULAR_TAGS, {"limit": limit}).all()]


@lru_cache(maxsize=2)
def _filter_user_statement(with_feed_total: bool) -> Select[Any]:
    total: Any = User.post_count
    if with_feed_total:
        followed = aliased(User)
        total = total + (
            select(func.coalesce(func.sum(followed.post_count), 0))
            .join(Follow, Follow.followed_id == followed.id)
            .where(Follow.follower_id == User.id)
            .correlate(User)
            .scalar_subquery()
        )
    return select(User, total).where(func.lower(User.username) == bindparam("username", type_=String))


def filter_user(db: Session, username: str, with_feed_total: bool) -> tuple[User, int]:
    """The user named in ``user=``/``author=``, and the number of posts their page lists
    (their own, or with ``with_feed_total`` also those of everyone they follow)."""
    row = db.execute(_filter_user_statement(with_feed_total), {"username": username.lower()}).first()
    if row is None:
        raise NotFoundError(f"No user with username {username}")
    return row[0], int(row[1])


@lru_cache(maxsize=2)
def _one_post_statement(with_viewer: bool) -> Select[Any]:
    return _post_rows(with_viewer).where(Post.id == bindparam("post_id", type_=Integer))


POST_NOT_FOUND = "Post not found"


def get_post(db: Session, post_id: int, viewer_id: int | None) -> PostRow:
    """The post with its author and counts (``liked_by_me`` for the viewer). A draft or a
    post scheduled for later is found by its author alone."""
    row = db.execute(_one_post_statement(viewer_id is not None), {"post_id": post_id, "viewer_id": viewer_id}).first()
    if row is None or not (row.live or row[0].user_id == viewer_id):
        raise NotFoundError(POST_NOT_FOUND)
    return PostRow(*row)


_UNPUBLISHED_COUNT_LIMIT = 10_000


@cache
def _unpublished_total(status: str) -> Select[Any]:
    mine = (
        select(Post.id)
        .where(Post.user_id == bindparam("author_id", type_=Integer), _unpublished(status))
        .limit(_UNPUBLISHED_COUNT_LIMIT)
    )
    return select(func.count()).select_from(mine.subquery())


def unpublished_total(db: Session, author_id: int, status: str) -> int:
    """How many drafts (or scheduled posts) the author has (counted up to 10,000)."""
    return db.scalar(_unpublished_total(status), {"author_id": author_id}) or 0


@lru_cache(maxsize=2)
def _comment_page_statement(with_cursor: bool) -> Select[Comment, str]:
    # Newest first, read backwards along the (post_id, date_posted, id) index.
    return (
        select(Comment, User.username)
        .join(User, User.id == Comment.user_id)
        .where(
            Comment.post_id == bindparam("post_id", type_=Integer),
            keyset_after(with_cursor, Comment.date_posted, Comment.id),
        )
        .order_by(Comment.date_posted.desc(), Comment.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def comment_page(
    db: Session, post_id: int, per_page: int, after: Position | None = None
) -> tuple[list[tuple[Comment, str]], Position | None]:
    """A page of a post's comments, newest first, with their authors' names, and where the
    next page starts (None on the last page)."""
    params = {"post_id": post_id, "limit": per_page + 1, **cursor_params(after)}
    rows = [(comment, name) for comment, name in db.execute(_comment_page_statement(after is not None), params).all()]
    more = len(rows) > per_page
    rows = rows[:per_page]
    last = rows[-1][0] if more else None
    return rows, Position(last.date_posted, last.id) if last is not None else None


# Plain table (Core) statements: the ORM's bulk-DML bookkeeping is not needed for these.
_posts = typing.cast(Table, Post.__table__)
_INSERT_POST = (
    insert(_posts)
    .values(
        user_id=bindparam("user_id", type_=Integer),
        title=bindparam("title", type_=String),
        content=bindparam("content", type_=Text),
        content_html=bindparam("content_html", type_=Text),
        excerpt=bindparam("excerpt", type_=String),
        slug=bindparam("slug", type_=String),
        tags=bindparam("tags", type_=ARRAY(String(30))),
        draft=bindparam("draft", type_=Boolean),
        counted=bindparam("counted", type_=Boolean),
        followers_notified=False,  # the minute chore mails them once the post is live
        date_posted=func.coalesce(bindparam("publish_at", type_=DateTime(timezone=True)), func.now()),
    )
    .returning(
        *(column for column in _posts.c if column.name != "search"),
        Post.is_public().label("live"),
    )
)


def render_content(content: str) -> writing.Rendered:
    """The content rendered (see ``writing.render``); refused when it cannot be shown."""
    try:
        return writing.render(content)
    except writing.UnshowableError as error:
        raise InvalidError.field("content", str(error)) from None


def create_post(
    db: Session,
    author: User,
    title: str,
    content: str,
    tags: list[str],
    status: str = PUBLISHED,
    publish_at: datetime | None = None,
) -> PostRow:
    """Insert the post, rendered: published now (and counted, with its tags), a draft, or
    scheduled for ``publish_at``."""
    rendered = render_content(content)
    published = status == PUBLISHED
    values = {
        "user_id": author.id,
        "title": title,
        "content": content,
        "slug": writing.slugify(title),
        "tags": tags,
        "content_html": rendered.html,
        "excerpt": rendered.excerpt,
        "draft": status == DRAFT,
        "counted": published,
        "publish_at": publish_at if status == SCHEDULED else None,
    }
    post = db.execute(_INSERT_POST, values).one()
    if published:
        publishing.count_post(db, author.id, tags, 1)
        publishing.note_change(db)
    # A new post has no likes or comments yet: no need to read it back.
    return PostRow(typing.cast(Post, post), author, 0, 0, False, live=post.live)


def find_post(db: Session, post_id: int, viewer_id: int | None, lock: bool = False) -> Post:
    """The post, if ``viewer_id`` may see it (drafts and scheduled posts are their author's
    alone); ``lock`` holds it for an update or delete in this transaction."""
    query = select(Post).where(Post.id == post_id, or_(Post.is_public(), Post.user_id == viewer_id))
    post = db.scalar(query.with_for_update() if lock else query)
    if post is None:
        raise NotFoundError(POST_NOT_FOUND)
    return post


def update_post(db: Session, post: Post, changes: dict[str, Any]) -> None:
    """Apply the changes to a post found with ``lock``; a ``status`` moves it between draft,
    scheduled (``publish_at``) and published, in and out of the counts."""
    was_draft = post.draft
    if "tags" in changes and post.counted:
        new, old = set(changes["tags"]), set(post.tags)
        publishing.count_tags(db, added=new - old, removed=old - new)
    if "tags" in changes:
        post.tags = changes["tags"]
    if "title" in changes:
        post.title = changes["title"]
        post.slug = writing.slugify(post.title)
    # Unchanged content keeps its HTML: a post from before Markdown stays plain text when the
    # site's editor sends it back with a new title.
    if "content" in changes and changes["content"] != post.content:
        post.content = changes["content"]
        rendered = render_content(post.content)
        post.content_html, post.excerpt = rendered.html, rendered.excerpt
    if "status" in changes:
        _move(db, post, changes["status"], changes.get("publish_at"))
    post.updated_at = func.now()
    if not (was_draft and post.draft):  # a draft's edits change no feed
        publishing.note_change(db)
    db.flush()


_NOW = select(func.now())


def database_now(db: Session) -> datetime:
    now: datetime = db.execute(_NOW).scalar_one()
    return now


def _move(db: Session, post: Post, status: str, publish_at: datetime | None) -> None:
    # The database's clock, as every visibility query reads it (the transaction's start).
    public = not post.draft and post.date_posted <= database_now(db)
    if status == PUBLISHED:
        if not public:  # published now (a post already live keeps its date)
            post.draft, post.date_posted = False, func.now()
    elif status == SCHEDULED and publish_at is not None:  # the schema requires it
        post.draft, post.date_posted = False, publish_at
    else:
        post.draft = True
    counted = status == PUBLISHED
    if counted != post.counted:
        publishing.count_post(db, post.user_id, post.tags, 1 if counted else -1)
        post.counted = counted


def delete_post(db: Session, post: Post) -> None:
    """Deletes the post; the database cascades to its likes and comments."""
    db.execute(delete(_posts).where(_posts.c.id == post.id))
    if post.counted:
        publishing.count_post(db, post.user_id, post.tags, -1)
    if not post.draft:
        publishing.note_change(db)


def require_author(post: Post, user: User) -> None:
    if post.user_id != user.id:
        raise ForbiddenError("Only the author of the post can operate on it.")
