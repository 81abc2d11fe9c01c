"""A post and what can be done to it: like, comment, write, update, delete."""

from __future__ import annotations

from typing import Any

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


@bp.route("/posts/{post_id}", methods=["GET"])
def show(post_id: str) -> Response:
    """The post with its newest comments; ?comments=<cursor> shows an older page of them."""
    post = fetch_post(post_id)
    older = query_params(bp.current_request).get("comments")
    if older:
        answer = api.call("posts", "GET", f"/posts/{post['id']}/comments", params={"cursor": older})
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
    return redirect(f"/posts/{post['id']}#comments", "Your comment has been added!", "success")


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
    title = content = ""
    errors: dict[str, list[str]] = {}
    if bp.current_request.method == "POST":
        data = form()
        title, content = data.get("title", ""), data.get("content", "")
        answer = api.call(
            "posts", "POST", "/posts", token=me.token, json={"title": title, "content": content}, client=me.address
        )
        if answer.status == 201:
            return redirect("/", "Your post has been created!", "success")
        _check(answer)
        errors = answer.errors or {"title": [answer.message]}
    return render("edit_post.html", legend="New Post", action="/posts/new", title=title, content=content, errors=errors)


@bp.route("/posts/{post_id}/update", methods=["GET", "POST"], content_types=PAGE_TYPES)
def update(post_id: str) -> Response:
    me, post = authored(post_id)
    title, content = post["title"], post["content"]
    errors: dict[str, list[str]] = {}
    if bp.current_request.method == "POST":
        data = form()
        title, content = data.get("title", ""), data.get("content", "")
        answer = api.call(
            "posts", "PUT", f"/posts/{post['id']}", token=me.token, json={"title": title, "content": content}
        )
        if answer.ok:
            return redirect(f"/posts/{post['id']}", "Your post has been updated!", "success")
        _check(answer)
        errors = answer.errors or {"title": [answer.message]}
    return render(
        "edit_post.html",
        legend="Update Post",
        action=f"/posts/{post['id']}/update",
        title=title,
        content=content,
        errors=errors,
    )


@bp.route("/posts/{post_id}/delete", methods=["GET", "POST"], content_types=PAGE_TYPES)
def delete(post_id: str) -> Response:
    """GET asks for confirmation; POST deletes."""
    me, post = authored(post_id)
    if bp.current_request.method == "GET":
        return render("delete_post.html", post=post)
    _check(api.call("posts", "DELETE", f"/posts/{post['id']}", token=me.token))
    return redirect("/", "Your post has been deleted!", "success")
