"""`chalice local`, routing as API Gateway does: with greedy path variables.

API Gateway serves a resource such as ``/{proxy+}`` for any path under it that no more
specific resource has; Chalice registers and deploys such routes, but its local server (and
its in-process test client) only match one segment per variable and answer any other path
with a 403 of their own. :func:`install` teaches their route matcher the greedy variables;
run as ``python devtools/local.py local --port 8000 ...`` it is the ``chalice`` command with
that installed (``make dev`` and the tests serve the apps this way).

Self-contained on purpose: the local server's reloader runs this file again by its path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

if __name__ == "__main__":  # run by path: devtools/ itself must not shadow any module
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from chalice import local

_match_one_segment = local.RouteMatcher.match_route


def _match_route(self: local.RouteMatcher, url: str) -> local.MatchResult:
    try:
        return _match_one_segment(self, url)
    except ValueError:
        pass
    parsed = urlparse(url)
    path = parsed.path.rstrip("/") or "/"
    # The greedy route with the longest prefix wins, as in API Gateway.
    for route in sorted(self.route_urls, key=len, reverse=True):
        prefix, _, variable = route.rpartition("/{")
        if route.endswith("+}") and path.startswith(prefix + "/") and len(path) > len(prefix) + 1:
            captured = {variable[:-2]: path[len(prefix) + 1 :]}
            return local.MatchResult(route, captured, parse_qs(parsed.query, keep_blank_values=True))
    raise ValueError(f"No matching route found for: {url}")


def install() -> None:
    """Greedy path variables in ``chalice local`` and ``chalice.test.Client`` (idempotent)."""
    setattr(local.RouteMatcher, "match_route", _match_route)  # noqa: B010 - a method of another library


def main() -> Any:
    install()
    from chalice.cli import cli

    arguments = sys.argv[1:]
    # The reloader of `chalice local` starts its worker with sys.argv: through this file too.
    sys.argv = [sys.executable, __file__, *arguments]
    return cli.main(args=arguments, prog_name="chalice", obj={})


if __name__ == "__main__":
    sys.exit(main())
