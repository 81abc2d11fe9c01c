"""``make bench``: post_api on a realistic data set, measured the way Lambda runs it.

Seeds a throw-away PostgreSQL (or BENCH_DATABASE_URL) with COPY: 2,000 users, random
follows, 200,000 posts, likes and comments. Then invokes the post_api handler
in-process with API Gateway proxy events and prints, per request kind: median and p95
time, SQL statements per request, and the ratio of the handler's time to the bare SQL
floor (the same statements with the same parameters, replayed on a plain pg8000
connection). The feed is also measured at 20,000 posts, to show its cost does not grow
with the table.

A new like also queues its notification mail on the emulator's SQS (moto, started here
unless AWS_ENDPOINT_URL answers), as it would on AWS.

Sizes can be changed with BENCH_USERS, BENCH_POSTS, BENCH_SMALL_POSTS, BENCH_ROUNDS.

Then the functions' cold starts from their artifacts, and the artifacts' sizes
(``devtools.coldstart``).
"""

from __future__ import annotations

import io
import json
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pg8000.dbapi
import pg8000.native
from sqlalchemy import event

USERS = int(os.environ.get("BENCH_USERS", "2000"))
POSTS = int(os.environ.get("BENCH_POSTS", "200000"))
SMALL_POSTS = int(os.environ.get("BENCH_SMALL_POSTS", "20000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
FOLLOWS_PER_USER = 20
LIKES_PER_POST = 2
COMMENTS_PER_POST = 0.5
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 2 * 365 * 24 * 3600
TAGS = ["aws", "python", "postgres", "serverless", "design", "ops", "notes", "news"]
RARE_WORD = "quokka"  # in one post of 10,000
WORDS = [
    "serverless",
    "lambda",
    "postgres",
    "index",
    "feed",
    "cursor",
    "latency",
    "python",
    "chalice",
    "blog",
    "post",
    "like",
    "comment",
    "follow",
    "query",
    "plan",
    "cache",
    "cold",
    "warm",
    "container",
    "page",
    "token",
    "json",
    "cloud",
    "queue",
    "mail",
    "picture",
]


def progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r  {label:<28} [{'#' * filled}{'.' * (width - filled)}] {done:>9,}/{total:,}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def copy_rows(conn: pg8000.native.Connection, table: str, columns: str, rows: Iterator[str], total: int) -> None:
    """COPY rows (tab-separated lines) in chunks, with a progress bar."""
    chunk: list[str] = []
    done = 0
    for row in rows:
        chunk.append(row)
        if len(chunk) == 20000:
            conn.run(f"COPY {table} ({columns}) FROM STDIN", stream=io.StringIO("".join(chunk)))
            done += len(chunk)
            chunk.clear()
            progress(table, done, total)
    if chunk:
        conn.run(f"COPY {table} ({columns}) FROM STDIN", stream=io.StringIO("".join(chunk)))
        done += len(chunk)
    progress(table, done, total)


def native_connection(url: str) -> pg8000.native.Connection:
    parsed = urlparse(url.replace("postgresql+pg8000", "postgresql"))
    return pg8000.native.Connection(
        parsed.username or "postgres",
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        database=parsed.path.lstrip("/"),
        password=parsed.password,
    )


def dbapi_connection(url: str) -> pg8000.dbapi.Connection:
    parsed = urlparse(url.replace("postgresql+pg8000", "postgresql"))
    return pg8000.dbapi.connect(
        user=parsed.username or "postgres",
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        database=parsed.path.lstrip("/"),
        password=parsed.password,
    )


class Seeder:
    def __init__(self, url: str, rng: random.Random) -> None:
        self.conn = native_connection(url)
        self.rng = rng
        self.posts = 0

    def users_and_follows(self) -> None:
        from devtools.apps import app_module

        hash_password = app_module("user_api", "chalicelib.passwords.hashing").hash_password

        password = hash_password("benchmark password")
        rows = (f"user{i}\tuser{i}@example.com\tuser{i}@example.com\t{password}\n" for i in range(1, USERS + 1))
        copy_rows(self.conn, "users", "username, email, email_canonical, password_hash", rows, USERS)
        pairs: set[tuple[int, int]] = set()
        for follower in range(1, USERS + 1):
            for followed in self.rng.sample(range(1, USERS + 1), FOLLOWS_PER_USER + 1):
                if followed != follower and len(pairs) < follower * FOLLOWS_PER_USER:
                    pairs.add((follower, followed))
        copy_rows(self.conn, "follows", "follower_id, followed_id", (f"{a}\t{b}\n" for a, b in pairs), len(pairs))

    def posts_likes_comments(self, count: int) -> None:
        first_id = self.posts + 1
        rng = self.rng

        def post_rows() -> Iterator[str]:
            for _ in range(count):
                moment = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
                title = " ".join(rng.choices(WORDS, k=5)).capitalize()
                content = " ".join(rng.choices(WORDS, k=60))
                tags = "{" + ",".join(rng.sample(TAGS, k=rng.randint(0, 3))) + "}"
                html = f"<p>{content}</p>"  # as post_api renders plain words
                yield f"{rng.randint(1, USERS)}\t{title}\t{content}\t{html}\t{tags}\t{moment.isoformat()}\n"

        columns = "user_id, title, content, content_html, tags, date_posted"
        copy_rows(self.conn, "posts", columns, post_rows(), count)
        self.posts += count
        last_id = self.posts

        likes: set[tuple[int, int]] = set()
        while len(likes) < count * LIKES_PER_POST:
            likes.add((rng.randint(first_id, last_id), rng.randint(1, USERS)))
        copy_rows(self.conn, "likes", "post_id, user_id", (f"{p}\t{u}\n" for p, u in likes), len(likes))

        comments = int(count * COMMENTS_PER_POST)
        rows = (
            f"{rng.randint(first_id, last_id)}\t{rng.randint(1, USERS)}\t{' '.join(rng.choices(WORDS, k=12))}\n"
            for _ in range(comments)
        )
        copy_rows(self.conn, "comments", "post_id, user_id, text", rows, comments)
        self.conn.run("UPDATE users SET post_count = (SELECT count(*) FROM posts WHERE posts.user_id = users.id)")
        self.conn.run(f"UPDATE posts SET content = content || ' {RARE_WORD}' WHERE id % 10000 = 0")
        self.conn.run(
            "INSERT INTO tags (name, post_count) SELECT tag, count(*) FROM posts, unnest(tags) AS tag GROUP BY tag"
            " ON CONFLICT (name) DO UPDATE SET post_count = excluded.post_count"
        )
        self.conn.run("VACUUM ANALYZE")

    def post_with_comments(self, comments: int) -> int:
        post_id: int = self.conn.run(
            "INSERT INTO posts (user_id, title, content, date_posted) VALUES (1, 'Busy post', 'Lots to say', now()) "
            "RETURNING id"
        )[0][0]
        self.conn.run("UPDATE users SET post_count = post_count + 1 WHERE id = 1")
        for i in range(comments):
            self.conn.run(
                "INSERT INTO comments (post_id, user_id, text) VALUES (:p, :u, :t)",
                p=post_id,
                u=(i % USERS) + 1,
                t=f"comment {i}",
            )
        return post_id

    def position_at(self, depth: int) -> tuple[datetime, int]:
        row = self.conn.run(
            "SELECT date_posted, id FROM posts ORDER BY date_posted DESC, id DESC OFFSET :o LIMIT 1", o=depth - 1
        )
        return row[0][0], row[0][1]


def proxy_event(
    method: str,
    resource: str,
    path: str,
    token: str | None,
    body: Any = None,
    query: Any = None,
    path_params: dict[str, str] | None = None,
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Host": "bench.execute-api.us-east-1.amazonaws.com"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": path,
            "stage": "api",
            "requestId": "bench",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


class Measure:
    """Runs one kind of request ROUNDS times through the handler, recording its SQL."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]], engine: Any, url: str) -> None:
        self.handler = handler
        self.engine = engine
        self.floor_conn = dbapi_connection(url)
        self.captured: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        self.captured.append((statement, parameters))

    def run(self, name: str, make_event: Callable[[int], dict[str, Any]], expect: int) -> dict[str, Any]:
        warm_up = []
        for i in range(10):  # warm up: connection, caches, compiled statements
            self.captured.clear()
            self.handler(make_event(-1 - i), None)
            warm_up.append(list(self.captured))
        handler_times, rounds = [], []
        for i in range(ROUNDS):
            self.captured.clear()
            event_ = make_event(i)
            started = time.perf_counter()
            response = self.handler(event_, None)
            handler_times.append(time.perf_counter() - started)
            if response["statusCode"] != expect:
                raise RuntimeError(f"{name}: expected {expect}, got {response['statusCode']}: {response['body'][:300]}")
            rounds.append(list(self.captured))
        # The floor replays each round's statements after all the handler's rounds, not between
        # them: interleaved, each evicts the other's code from the CPU caches, and the larger
        # (the handler) loses more (about 0.8 ms a request on this machine).
        for statements in warm_up:  # the replay warms up on the warm-up's own statements
            self._replay(statements)
        floor_times = [self._replay(statements) for statements in rounds]
        statement_counts = [len(statements) for statements in rounds]
        handler_ms = statistics.median(handler_times) * 1000
        floor_ms = statistics.median(floor_times) * 1000
        return {
            "name": name,
            "median": handler_ms,
            "p95": statistics.quantiles(handler_times, n=20)[-1] * 1000,
            "statements": max(statement_counts),
            "floor": floor_ms,
            "ratio": handler_ms / floor_ms if floor_ms else float("nan"),
        }

    def _replay(self, statements: list[tuple[str, Any]]) -> float:
        """The same statements and parameters on a bare pg8000 connection, in one transaction
        that is committed like the handler's (a replayed post or like is harmless here)."""
        cursor = self.floor_conn.cursor()
        started = time.perf_counter()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
        self.floor_conn.commit()
        return time.perf_counter() - started


@contextmanager
def database() -> Iterator[str]:
    from blog_shared import migrate
    from devtools import pg

    url = os.environ.get("BENCH_DATABASE_URL")
    server = None
    if not url:
        server = pg.temporary_server()
        url = server.url
    migrate.upgrade(url)
    try:
        yield url
    finally:
        if server is not None:
            server.discard()


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'request':<34}{'median ms':>10}{'p95 ms':>9}{'SQL/req':>9}{'floor ms':>10}{'handler/floor':>15}")
    print("-" * 87)
    for row in rows:
        print(
            f"{row['name']:<34}{row['median']:>10.2f}{row['p95']:>9.2f}{row['statements']:>9}"
            f"{row['floor']:>10.2f}{row['ratio']:>14.2f}x"
        )


def main() -> int:
    rng = random.Random(20261126)
    from blog_shared import keys

    for name, value in keys.generate_values().items():
        os.environ.setdefault(name, value)
    os.environ["APP_STAGE"] = "prod"
    os.environ.setdefault("PUBLIC_URL", "https://blog.example.com")  # outside dev the apps want https addresses
    os.environ.setdefault("RATE_LIMIT_SCALE", "1000")  # one reader writes and likes hundreds of times
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    started = time.monotonic()
    from devtools import aws

    # A new like queues a notification mail: the emulator's SQS stands in for AWS's.
    endpoint, emulator = aws.ensure_emulator()
    os.environ.update(aws.FAKE_CREDENTIALS, AWS_ENDPOINT_URL=endpoint)
    os.environ["EMAIL_QUEUE_URL"], _ = aws.prepare_mail(
        endpoint, f"bench-email-{secrets.token_hex(4)}", "Bench <bench@blog.example.com>"
    )
    try:
        _run(rng, started)
    finally:
        aws.stop(emulator)
    from devtools import coldstart

    print("\nCold starts: packaging every artifact ...", file=sys.stderr)
    return coldstart.main()


def _run(rng: random.Random, started: float) -> int:
    with database() as url:
        os.environ["DATABASE_URL"] = url
        from blog_shared import db, tokens
        from blog_shared.config import get_settings

        get_settings.cache_clear()  # the migrations read the settings before DATABASE_URL was set
        db.reset_engine()
        from devtools.apps import app_module, load_app

        print(f"Seeding {USERS:,} users, {SMALL_POSTS:,} then {POSTS:,} posts (COPY) ...", file=sys.stderr)
        seeder = Seeder(url, rng)
        seeder.users_and_follows()
        seeder.posts_likes_comments(SMALL_POSTS)

        handler = load_app("post_api").app
        position_type = app_module("post_api", "chalicelib.posts.store").Position
        encode_cursor = app_module("post_api", "chalicelib.posts.schemas").encode_cursor
        reader = 7  # follows FOLLOWS_PER_USER users
        token = tokens.issue(reader, tokens.ACCESS, 3600, ver=1).token
        measure = Measure(handler, db.get_engine(), url)

        def feed(_: int) -> dict[str, Any]:
            return proxy_event("GET", "/posts", "/posts", token, query={"user": f"user{reader}"})

        small_feed = measure.run(f"feed at {SMALL_POSTS:,} posts", feed, 200)

        seeder.posts_likes_comments(POSTS - SMALL_POSTS)
        busy_post = seeder.post_with_comments(50)
        moment, post_id = seeder.position_at(500 * 10)
        deep_cursor = encode_cursor(position_type(moment, post_id))
        total_posts = seeder.posts + 1
        print(f"Seeded in {time.monotonic() - started:.0f} s; measuring {ROUNDS} requests each ...", file=sys.stderr)

        rows = [
            measure.run("first page of all posts", lambda _: proxy_event("GET", "/posts", "/posts", token), 200),
            measure.run(f"feed at {POSTS:,} posts", feed, 200),
            measure.run(
                "post with 50 comments",
                lambda _: proxy_event(
                    "GET", "/posts/{post_id}", f"/posts/{busy_post}", token, path_params={"post_id": str(busy_post)}
                ),
                200,
            ),
            measure.run(
                "page 100 by page number (the last)",
                lambda _: proxy_event("GET", "/posts", "/posts", token, query={"page": "100"}),
                200,
            ),
            measure.run(
                "page 500 by cursor",
                lambda _: proxy_event("GET", "/posts", "/posts", token, query={"cursor": deep_cursor}),
                200,
            ),
            measure.run(
                "search, a common word",
                lambda _: proxy_event("GET", "/posts", "/posts", token, query={"q": WORDS[0]}),
                200,
            ),
            measure.run(
                f"search, a rare word ({POSTS // 10000} posts)",
                lambda _: proxy_event("GET", "/posts", "/posts", token, query={"q": RARE_WORD}),
                200,
            ),
            measure.run(
                "tag page",
                lambda _: proxy_event("GET", "/posts", "/posts", token, query={"tag": TAGS[0]}),
                200,
            ),
            measure.run(
                "site feed (20 newest, with HTML)",
                lambda _: proxy_event("GET", "/posts", "/posts", None, query={"per_page": "20", "with_html": "true"}),
                200,
            ),
            measure.run(
                "create post",
                lambda i: proxy_event("POST", "/posts", "/posts", token, {"title": f"Bench {i}", "content": "Fast?"}),
                201,
            ),
            measure.run(
                "repeated like (no new mail)",
                lambda _: proxy_event(
                    "POST", "/posts/{post_id}/likes", "/posts/1/likes", token, path_params={"post_id": "1"}
                ),
                201,
            ),
            measure.run(
                "new like (+ mail queued to SQS)",
                lambda i: proxy_event(
                    "POST",
                    "/posts/{post_id}/likes",
                    f"/posts/{(i * 7919) % total_posts + 1}/likes",
                    token,
                    path_params={"post_id": str((i * 7919) % total_posts + 1)},
                ),
                201,
            ),
        ]
        print_table([small_feed, *rows])
        first_page = rows[0]["median"]
        feed_ratio = rows[1]["median"] / small_feed["median"]
        cursor_ratio = rows[4]["median"] / first_page
        # The new like also puts a message on SQS after its commit: not SQL, so not in the floor.
        worst = max(rows[:-1], key=lambda r: r["ratio"])
        print()
        print(f"feed time at {POSTS:,} vs {SMALL_POSTS:,} posts: {feed_ratio:.2f}x   (target <= 1.3)")
        print(f"cursor page 500 vs first page:        {cursor_ratio:.2f}x   (target <= 1.3)")
        print(f"largest handler/SQL-floor ratio:      {worst['ratio']:.2f}x   ({worst['name']}; target <= 2)")
        queued = rows[-1]["median"] - rows[-2]["median"]
        print(f"a new like's mail (outbox row + SQS send): +{queued:.2f} ms over a repeated like (moto's SQS)")
        print(f"total time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
