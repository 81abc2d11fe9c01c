"""Database access for comments."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from blog_shared.db import FOREIGN_KEY_VIOLATION, sqlstate
from blog_shared.errors import ForbiddenError, NotFoundError
from blog_shared.models import Comment, Post, User

from ..posts.store import POST_NOT_FOUND


def add_comment(db: Session, post_id: int, user_id: int, text: str) -> Comment:
    """The new comment (not found when the post was deleted meanwhile)."""
    comment = Comment(post_id=post_id, user_id=user_id, text=text)
    db.add(comment)
    try:
        db.flush()
    except DBAPIError as error:
        # The post was deleted meanwhile; the error rolls the transaction back.
        if sqlstate(error) == FOREIGN_KEY_VIOLATION:
            raise NotFoundError(POST_NOT_FOUND) from None
        raise
    db.refresh(comment)
    return comment


COMMENT_NOT_FOUND = "Comment not found"


def delete_comment(db: Session, post_id: int, comment_id: int, user: User) -> None:
    """Delete the comment on that post; only its author or the post's author may."""
    row = db.execute(
        select(Comment, Post.user_id)
        .join(Post, Post.id == Comment.post_id)
        # A draft's or scheduled post's comments are not found by anyone but its author, as
        # the post is not (a 403 would tell that it exists).
        .where(Comment.id == comment_id, Comment.post_id == post_id, or_(Post.is_public(), Post.user_id == user.id))
    ).first()
    if row is None:
        raise NotFoundError(COMMENT_NOT_FOUND)
    comment, post_author_id = row
    if user.id not in (comment.user_id, post_author_id):
        raise ForbiddenError("Only the comment's author or the post's author can delete it.")
    db.execute(delete(Comment).where(Comment.id == comment.id))
