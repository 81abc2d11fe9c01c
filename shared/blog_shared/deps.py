"""What a route needs from its request, in one helper (the role FastAPI's ``SessionDep`` and
``CurrentUser`` play): a database session in one transaction, who is calling, and the
validated body and query.

    with request_scope(bp) as scope:
        author = scope.user                      # refused (401) when anonymous
        data = scope.body(PostCreateSchema)      # refused (400/413) when it does not fit
        ...

The caller is looked up on first use, so a route decides whether a missing token is
refused before or after anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalice.app import Blueprint, Request
from marshmallow import Schema
from sqlalchemy.orm import Session

from . import limits, tokens
from .auth import TOKEN_REQUIRED, authenticate
from .db import transaction
from .errors import DomainError, InvalidError, UnauthenticatedError
from .http import read_json
from .models import User
from .text import text_problem
from .validation import load

_UNKNOWN = object()


class RequestScope:
    def __init__(self, request: Request, db: Session, api: str) -> None:
        self.request = request
        self.db = db
        self.api = api  # the app's name: "user-api" or "post-api"
        self._caller: Any = _UNKNOWN
        self._after_failure: list[Callable[[Session], None]] = []

    def on_failure(self, record: Callable[[Session], None]) -> None:
        """Have ``record`` run in a transaction of its own if the request fails (its own
        transaction is rolled back): what a refused request must still leave behind, such
        as a failed password check or a rate-limit hit."""
        self._after_failure.append(record)

    def _authenticated(self) -> tuple[User, tokens.Claims] | None:
        if self._caller is _UNKNOWN:
            self._caller = authenticate(self.db, self.request)
        found: tuple[User, tokens.Claims] | None = self._caller
        return found

    @property
    def viewer(self) -> User | None:
        """The calling user, or None for an anonymous request (a bad token is refused)."""
        found = self._authenticated()
        return found[0] if found else None

    @property
    def user(self) -> User:
        """The calling user; refused when the request carries no token."""
        return self._required()[0]

    @property
    def claims(self) -> tokens.Claims:
        """The claims of the calling user's token; refused when the request carries none."""
        return self._required()[1]

    def _required(self) -> tuple[User, tokens.Claims]:
        found = self._authenticated()
        if found is None:
            raise UnauthenticatedError(TOKEN_REQUIRED)
        return found

    @property
    def client_address(self) -> str:
        """The address this request counts against in rate limits and login throttling."""
        return limits.client_address(self.request, self.api)

    def limit(self, rule: limits.Rule, account: str | int | None = None) -> None:
        """Count this request against ``rule`` for its client address (and ``account``),
        whether it then succeeds or not; refused (429) over the limit."""
        address = self.client_address
        self.on_failure(lambda db: limits.hit(db, rule, address, account, check=False))
        limits.hit(self.db, rule, address, account)

    def body(self, schema: type[Schema]) -> dict[str, Any]:
        """The JSON body, validated by ``schema``."""
        return load(schema, read_json(self.request))

    def query(self, schema: type[Schema]) -> dict[str, Any]:
        """The query string, validated by ``schema`` (every value one line of storable text)."""
        params = dict(self.request.query_params or {})
        for name, value in params.items():
            problem = text_problem(value, one_line=True) or text_problem(name, one_line=True)
            if problem:
                raise InvalidError("Invalid query string.", errors={name: [problem]})
        return load(schema, params)


@contextmanager
def request_scope(bp: Blueprint) -> Iterator[RequestScope]:
    """The current request of ``bp`` with a session in one transaction: committed when the
    block ends, rolled back when it raises."""
    request = bp.current_request
    scope: RequestScope | None = None
    try:
        with transaction() as db:
            scope = RequestScope(request, db, bp.current_app.app_name)
            yield scope
    except DomainError:
        if scope is not None and scope._after_failure:
            with transaction() as db:  # the request's connection is back in the pool by now
                for record in scope._after_failure:
                    record(db)
        raise
