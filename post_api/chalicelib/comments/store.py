"""Database access for comments."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from blog_shared.db import FOREIGN_KEY_VIOLATION, sqlstate
from blog_shared.models import Comment, Post


def add_comment(db: Session, post_id: int, user_id: int, text: str) -> Comment | None:
    """The new comment, or None when the post was deleted meanwhile."""
    comment = Comment(post_id=post_id, user_id=user_id, text=text)
    db.add(comment)
    try:
        db.flush()
    except DBAPIError as error:
        # The post was deleted meanwhile; the caller's 404 rolls the transaction back.
        if sqlstate(error) == FOREIGN_KEY_VIOLATION:
            return None
        raise
    db.refresh(comment)
    return comment


def get_comment_with_post_author(db: Session, post_id: int, comment_id: int) -> tuple[Comment, int] | None:
    """The comment on that post and the id of the post's author."""
    row = db.execute(
        select(Comment, Post.user_id)
        .join(Post, Post.id == Comment.post_id)
        .where(Comment.id == comment_id, Comment.post_id == post_id)
    ).first()
    return (row[0], row[1]) if row else None


def delete_comment(db: Session, comment: Comment) -> None:
    db.execute(delete(Comment).where(Comment.id == comment.id))
