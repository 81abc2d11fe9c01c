"""A post and what can be done to it: like, comment, write, update, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response

from .. import api, visit
from ..web import PAGE_TYPES, PageError, form, login_required, query_params, redirect, render

bp = Blueprint(__name__)


def fetch_post(raw_id: str) -> dict[str, Any]:
    if not raw_id.isdigit():
        raise PageError(404, "That post does not exist.")
    answer = api.call("posts", "GET", f"/posts/{raw_id}", token=visit.current().token)
    if answer.status == 404:
        raise PageError(404, "That post does not exist (or not any more).")
    if not answer.ok:
        raise PageError(400, answer.message)
    post: dict[str, Any] = answer.data
    return post


def authored(raw_id: str) -> tuple[visit.Visit, dict[str, Any]]:
    me = login_required()
    post = fetch_post(raw_id)
    if me.user is None or post["author"]["id"] != me.user["id"]:
        raise PageError(403, "Only the author of the post can operate on it.")
    return me, post


def _check(answer: api.ApiResponse) -> None:
    """Turn an API refusal into the matching page."""
    if answer.status == 404:
        raise PageError(404, "That post does not exist (or not any more).")
    if answer.status in (401, 403):
        raise PageError(403, answer.message)
    if answer.status == 429:
        raise PageError.throttled(answer)


def post_path(post: dict[str, Any]) -> str:
    """The post's canonical page: ``/posts/<id>/<slug>``."""
    return f"/posts/{post['id']}/{post['slug']}"


def _to_canonical(post: dict[str, Any]) -> Response:
    """Moved for good, but not cached: a title can change back, and a cached move would then
    loop."""
    older = query_params(bp.current_request).get("comments")
    location = post_path(post) + (f"?{urlencode({'comments': older})}" if older else "")
    return Response(body="", status_code=301, headers={"Location": location, "Cache-Control": "no-cache"})


@bp.route("/posts/{post_id}", methods=["GET"])
def show_by_id(post_id: str) -> Response:
    """Old and short links: moved for good to the page with the post's slug."""
    return _to_canonical(fetch_post(post_id))


@bp.route("/posts/{post_id}/{slug}", methods=["GET"])
def show(post_id: str, slug: str) -> Response:
    """The post with its newest comments; ?comments=<cursor> shows an older page of them. A
    slug that is not the post's (its title changed) moves to the current one."""
    post = fetch_post(post_id)
    if slug != post["slug"] or post_id != str(post["id"]):  # "007" is post 7, at its own address
        return _to_canonical(post)
    older = query_params(bp.current_request).get("comments")
    if older:
        token = visit.current().token  # the author pages the comments of their own draft too
        answer = api.call("posts", "GET", f"/posts/{post['id']}/comments", token=token, params={"cursor": older})
        _check(answer)
        if not answer.ok:
            raise PageError(400, answer.message)
        post.update(comments=answer.data["comments"], comments_next_cursor=answer.body.get("next_cursor"))
    return render("post.html", post=post, errors={}, comment_text="", older_page=bool(older))


@bp.route("/posts/{post_id}/like", methods=["POST"], content_types=PAGE_TYPES)
def like(post_id: str) -> Response:
    return _like(post_id, "POST")


@bp.route("/posts/{post_id}/unlike", methods=["POST"], content_types=PAGE_TYPES)
def unlike(post_id: str) -> Response:
    return _like(post_id, "DELETE")


def _like(post_id: str, method: str) -> Response:
    me = login_required()
    if not post_id.isdigit():
        raise PageError(404)
    _check(api.call("posts", method, f"/posts/{post_id}/likes", token=me.token))
    return redirect(f"/posts/{post_id}")


@bp.route("/posts/{post_id}/comments", methods=["POST"], content_types=PAGE_TYPES)
def comment(post_id: str) -> Response:
    me = login_required()
    post = fetch_post(post_id)
    text = form().get("comment", "")
    answer = api.call(
        "posts", "POST", f"/posts/{post['id']}/comments", token=me.token, json={"text": text}, client=me.address
    )
    _check(answer)
    if answer.status == 400:
        errors = {"comment": answer.errors.get("text") or [answer.message]}
        return render("post.html", status=400, post=post, errors=errors, comment_text=text)
    return redirect(f"{post_path(post)}#comments", "Your comment has been added!", "success")


@bp.route("/posts/{post_id}/comments/{comment_id}/delete", methods=["POST"], content_types=PAGE_TYPES)
def delete_comment(post_id: str, comment_id: str) -> Response:
    me = login_required()
    if not (post_id.isdigit() and comment_id.isdigit()):
        raise PageError(404)
    answer = api.call("posts", "DELETE", f"/posts/{post_id}/comments/{comment_id}", token=me.token)
    _check(answer)
    return redirect(f"/posts/{post_id}#comments", "The comment has been deleted.", "info")


@bp.route("/posts/new", methods=["GET", "POST"], content_types=PAGE_TYPES)
def new() -> Response:
    me = login_required()
    fields = {"title": "", "content": "", "tags": "", "status": "published", "publish_at": ""}
    return _editor(me, "New Post", "/posts/new", None, fields)


@bp.route("/posts/{post_id}/update", methods=["GET", "POST"], content_types=PAGE_TYPES)
def update(post_id: str) -> Response:
    me, post = authored(post_id)
    fields = {
        "title": post["title"],
        "content": post["content"],
        "tags": ", ".join(post["tags"]),
        "status": post["status"],
        "publish_at": utc_local(post["publish_at"]),
    }
    return _editor(me, "Update Post", f"/posts/{post['id']}/update", post, fields)


def _editor(me: visit.Visit, legend: str, action: str, post: dict[str, Any] | None, fields: dict[str, str]) -> Response:
    """The editor of a new post (``post`` None) or of ``post``, showing ``fields`` (title,
    content, tags as typed). Its form posts with a mode: ``write`` and ``preview`` show it
    again (the preview rendered by post_api), ``save`` writes the post."""
    errors: dict[str, list[str]] = {}
    mode, preview_html = "write", ""
    if bp.current_request.method == "POST":
        data = form()
        fields = {name: data.get(name, "") for name in EDITOR_FIELDS}
        mode = data.get("mode", "save")
        if mode == "preview":
            answer = api.call("posts", "POST", "/posts/preview", token=me.token, json={"content": fields["content"]})
            _check(answer)
            if answer.ok:
                preview_html = answer.data["content_html"]
            else:
                mode, errors = "write", answer.errors or {"content": [answer.message]}
        elif mode == "save":
            body = {"title": fields["title"], "content": fields["content"], "tags": split_tags(fields["tags"])}
            unchanged_schedule = (
                post is not None
                and post["status"] == fields["status"] == "scheduled"
                and utc_local(post["publish_at"]) == fields["publish_at"]
            )
            if not unchanged_schedule:  # the form's time is cut to the minute: keep the post's own
                body.update(publishing_fields(fields["status"], fields["publish_at"]))
            if post is None:
                answer = api.call("posts", "POST", "/posts", token=me.token, json=body, client=me.address)
            else:
                answer = api.call("posts", "PUT", f"/posts/{post['id']}", token=me.token, json=body)
            if answer.ok:
                return _saved(answer.data, created=post is None)
            _check(answer)
            errors = answer.errors or {"title": [answer.message]}
    # (``status`` is render's own argument: the post's is ``publishing`` in the template.)
    page: dict[str, Any] = {"legend": legend, "action": action, "errors": errors, "mode": mode, **fields}
    page["publishing"] = page.pop("status")
    return render("edit_post.html", preview_html=preview_html, **page)


EDITOR_FIELDS = ("title", "content", "tags", "status", "publish_at")


def publishing_fields(status: str, publish_at: str) -> dict[str, str]:
    """The editor's status and time (a ``datetime-local`` value, read as UTC) for the API."""
    if status not in ("draft", "scheduled"):
        return {"status": "published"}
    if status == "draft":
        return {"status": status}
    return {"status": status, "publish_at": f"{publish_at}+00:00" if publish_at else ""}


def utc_local(moment: str | None) -> str:
    """An API time as a ``datetime-local`` value in UTC (minutes)."""
    if not moment:
        return ""
    return datetime.fromisoformat(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _saved(post: dict[str, Any], created: bool) -> Response:
    if post["status"] == "draft":
        return redirect(post_path(post), "Your draft has been saved: only you can see it.", "success")
    if post["status"] == "scheduled":
        when = datetime.fromisoformat(post["publish_at"]).astimezone(UTC).strftime("%B %-d, %Y at %H:%M UTC")
        return redirect(post_path(post), f"Your post will be published on {when}.", "success")
    if created:
        return redirect("/", "Your post has been created!", "success")
    return redirect(post_path(post), "Your post has been updated!", "success")


def split_tags(typed: str) -> list[str]:
    """Tags as typed in the editor: separated by commas or spaces, empty ones dropped."""
    return typed.replace(",", " ").split()


@bp.route("/posts/{post_id}/delete", methods=["GET", "POST"], content_types=PAGE_TYPES)
def delete(post_id: str) -> Response:
    """GET asks for confirmation; POST deletes."""
    me, post = authored(post_id)
    if bp.current_request.method == "GET":
        return render("delete_post.html", post=post)
    _check(api.call("posts", "DELETE", f"/posts/{post['id']}", token=me.token))
    return redirect("/", "Your post has been deleted!", "success")
