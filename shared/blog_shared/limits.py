"""Rate limits on the writes that cost us or bother others: posting, commenting, signing up
and asking for password resets. Counted in PostgreSQL, so every Lambda container sees the
same counts.

Each rule allows ``per_account`` hits per window for one account (a user, or the address a
reset is asked for) and ``per_address`` for one client address. A hit over either answers
429 with ``Retry-After`` (the end of the window). Windows are fixed (``window`` seconds
long, aligned to the epoch): a burst can reach twice a limit across a window's edge, which
these limits allow for. Stale rows are swept by :func:`sweep` (user_api's scheduled
function).

The client address is API Gateway's ``sourceIp``. The web frontend calls the APIs on its
visitors' behalf, so it names the visitor's address in a short-lived client token
(``X-Blog-Client``) that only a service of this deployment can sign; IPv6 addresses count
per /64 (one host usually holds a whole /64).
"""

from __future__ import annotations

import ipaddress
import typing
from dataclasses import dataclass

from chalice.app import Request
from sqlalchemy import DateTime, Integer, String, Table, bindparam, delete, func, literal_column
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from . import tokens
from .config import get_settings
from .db import row_count
from .errors import ThrottledError
from .models import RateLimitHit


@dataclass(frozen=True)
class Rule:
    action: str
    window: int  # seconds
    per_address: int
    per_account: int | None = None
    message: str = "Too many requests; please try again later."


POST = Rule("post", window=600, per_account=30, per_address=60, message="You are posting too fast.")
COMMENT = Rule("comment", window=60, per_account=10, per_address=30, message="You are commenting too fast.")
REGISTER = Rule("register", window=3600, per_address=10, message="Too many accounts from your address; try later.")
CONFIRMATION_MAIL = Rule(
    "confirm-mail", window=3600, per_account=3, per_address=10, message="We sent a link a moment ago; try later."
)
PREVIEW = Rule("preview", window=600, per_account=120, per_address=240, message="You are previewing too fast.")
PASSWORD_RESET = Rule(
    "reset", window=3600, per_account=3, per_address=10, message="Too many reset requests; try again later."
)


def client_address(request: Request, api: str) -> str:
    """The address a request to ``api`` (its app name) counts against (see the module's notes)."""
    claimed = request.headers.get(tokens.CLIENT_HEADER)
    if claimed:
        try:
            address = tokens.decode(claimed, tokens.CLIENT_FOR[api]).extra.get("addr")
        except tokens.TokenError:
            address = None  # not ours: count the request against its own address
        if isinstance(address, str):
            return _counted_as(address)
    identity = request.context.get("identity") or {}
    return _counted_as(str(identity.get("sourceIp") or "unknown"))


def _counted_as(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


_hits = typing.cast(Table, RateLimitHit.__table__)
_upsert = insert(_hits).values(
    key=bindparam("key", type_=String),
    window_end=func.to_timestamp(
        (func.floor(func.extract("epoch", func.now()) / bindparam("window", type_=Integer)) + 1)
        * bindparam("window", type_=Integer)
    ),
    hits=1,
)
_HIT = _upsert.on_conflict_do_update(
    index_elements=[_hits.c.key, _hits.c.window_end], set_={"hits": _hits.c.hits + 1}
).returning(_hits.c.hits, _hits.c.window_end, literal_column("now()", DateTime(timezone=True)))


def hit(db: Session, rule: Rule, address: str, account: str | int | None = None, check: bool = True) -> None:
    """Count one request of ``rule``'s action from ``address`` (and for ``account``); raises
    ThrottledError when either count is over its limit (unless ``check`` is False: counting a
    request that failed, see ``RequestScope.limit``)."""
    scale = get_settings().rate_limit_scale
    counts = [(f"{rule.action}:addr:{address}", rule.per_address)]
    if account is not None and rule.per_account is not None:
        counts.append((f"{rule.action}:account:{account}", rule.per_account))
    for key, limit in counts:
        hits, window_end, now = db.execute(_HIT, {"key": key[:200], "window": rule.window}).one()
        if check and hits > limit * scale:
            raise ThrottledError(rule.message, retry_after=max(1, int((window_end - now).total_seconds()) + 1))


_SWEEP = delete(_hits).where(_hits.c.window_end < func.now())


def sweep(db: Session) -> int:
    """Forget the counts of windows that have ended; returns how many."""
    return row_count(db, _SWEEP)
