"""Mails rendered from Jinja2 templates (plain text and HTML) as MIME messages for SES.

Each mail is composed when it is sent, from the database as it is then: the recipient's
current address, a deleted post or comment (no mail), an unsubscribe in the meantime (no
notification). Links with tokens (reset, unsubscribe) are made here, so no usable token
is ever stored in the outbox.
"""

from __future__ import annotations

import email.policy
import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from blog_shared import mail, tokens
from blog_shared.config import get_settings
from blog_shared.models import Comment, OutboxMail, Post, User

from ..users.emails import mail_address

log = logging.getLogger("blog.mail")
_POLICY = email.policy.SMTP.clone(max_line_length=998)

SITE_NAME = "Serverless Blog"
# The original's subjects for the notifications.
SUBJECTS = {
    mail.LIKE: "Someone Liked Your Post!",
    mail.COMMENT: "Someone Commented on Your Post!",
    mail.FOLLOW: "Someone Followed You!",
    mail.NEW_POST: "A New Post From Someone You Follow",
    mail.WELCOME: f"Welcome to {SITE_NAME}!",
    mail.PASSWORD_RESET: "Password Reset Request",
    mail.CONFIRM_EMAIL: "Confirm your email address",
    mail.EMAIL_CHANGE: "Confirm your new email address",
    mail.EMAIL_CHANGED: "Your email address was changed",
}

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _templates() -> Environment:
    """The mails' templates (Jinja2 loaded on first use: user_api's HTTP function sends no mail)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def compose(db: Session, outbox: OutboxMail) -> EmailMessage | None:
    """The message for an outbox row, or None when it should no longer be sent."""
    recipient = db.get(User, outbox.recipient_id)
    if recipient is None:
        return None
    context = _context(db, outbox, recipient)
    if context is None:
        return None
    # Mail about a change of address goes to an address other than the account's.
    address = mail_address(outbox.data.get("to") or recipient.email)
    if address is None:
        log.warning("mail %s dropped: its address cannot be written in a mail header", outbox.idempotency_key)
        return None
    # SMTP's line length, not the default 78: a folded List-Unsubscribe URL would be turned
    # into RFC 2047 encoded words, which mail programs do not read as a link.
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = SUBJECTS[outbox.kind]
    message["From"] = get_settings().ses_sender
    message["To"] = formataddr((recipient.username, address))
    if "unsubscribe_url" in context:
        # RFC 8058 one-click unsubscribe: mail providers POST to the link.
        message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_templates().get_template(f"{outbox.kind}.txt").render(context))
    message.add_alternative(_templates().get_template(f"{outbox.kind}.html").render(context), subtype="html")
    return message


def reset_token(user: User) -> str:
    """A password reset token for ``user``: 30 minutes, and only while the password (its
    session version) and the email it was sent to are unchanged."""
    return tokens.issue(
        user.id,
        tokens.PASSWORD_RESET,
        tokens.PASSWORD_RESET_TTL,
        ver=user.session_version,
        em=tokens.email_fingerprint(user.email),
    ).token


def confirm_token(user: User) -> str:
    """Confirms the account's address, while it is still the account's address."""
    fingerprint = tokens.email_fingerprint(user.email)
    return tokens.issue(user.id, tokens.EMAIL_CONFIRM, tokens.EMAIL_CONFIRM_TTL, em=fingerprint).token


def _context(db: Session, outbox: OutboxMail, recipient: User) -> dict[str, Any] | None:
    site = get_settings().public_url
    context: dict[str, Any] = {"user": recipient, "site": site, "site_name": SITE_NAME}
    fingerprint = tokens.email_fingerprint(recipient.email)
    if outbox.kind == mail.PASSWORD_RESET:
        context.update(
            reset_url=f"{site}/reset_password/{reset_token(recipient)}", minutes=tokens.PASSWORD_RESET_TTL // 60
        )
        return context
    if outbox.kind in (mail.WELCOME, mail.CONFIRM_EMAIL):
        confirmed = recipient.email_confirmed_at is not None
        if outbox.kind == mail.CONFIRM_EMAIL and confirmed:
            return None  # confirmed meanwhile
        context.update(confirm_url=None if confirmed else f"{site}/confirm_email/{confirm_token(recipient)}")
        return context
    if outbox.kind == mail.EMAIL_CHANGE:
        # Good while the account keeps the address it had when the change was asked for.
        new = outbox.data["to"]
        change = tokens.issue(
            recipient.id,
            tokens.EMAIL_CHANGE,
            tokens.EMAIL_CHANGE_TTL,
            new=new,
            em=fingerprint,
            ver=recipient.session_version,
        )
        context.update(new_email=new, confirm_url=f"{site}/confirm_email/{change.token}")
        return context
    if outbox.kind == mail.EMAIL_CHANGED:
        old = outbox.data["to"]
        # Not bound to the current address: a further change (by whoever made this one) must
        # not take the old address's way back.
        undo = tokens.issue(recipient.id, tokens.EMAIL_UNDO, tokens.EMAIL_UNDO_TTL, old=old)
        context.update(old_email=old, undo_url=f"{site}/undo_email_change/{undo.token}")
        return context
    # A notification: only to a confirmed address, skipped when the recipient unsubscribed
    # or its subject is gone.
    if not recipient.email_notifications or recipient.email_confirmed_at is None:
        return None
    actor = db.get(User, outbox.data.get("actor_id"))
    if actor is None:
        return None
    context.update(actor=actor, actor_url=f"{site}/users/{quote(actor.username)}/posts")
    if outbox.kind in (mail.LIKE, mail.COMMENT, mail.NEW_POST):
        post = db.get(Post, outbox.data.get("post_id"))
        if post is None:
            return None
        # A post taken back to draft (or rescheduled) since: nothing to announce.
        if outbox.kind == mail.NEW_POST and (post.draft or post.date_posted > datetime.now(UTC)):
            return None
        context.update(post=post, post_url=f"{site}/posts/{post.id}/{post.slug}")
    if outbox.kind == mail.COMMENT:
        comment = db.get(Comment, outbox.data.get("comment_id"))
        if comment is None:
            return None
        context.update(comment=comment)
    unsubscribe = tokens.issue(recipient.id, tokens.UNSUBSCRIBE, tokens.UNSUBSCRIBE_TTL)
    context.update(unsubscribe_url=f"{site}/unsubscribe/{unsubscribe.token}", account_url=f"{site}/account")
    return context
