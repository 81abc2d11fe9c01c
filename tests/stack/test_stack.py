"""The stack, run as wired: every function from its own artifact with the environment
build/template.yaml gives it, driven by the events the template defines (API routes through
each API's stage, the SQS mapping, the schedule, the migration custom resource), and a
journey over it. `make test-stack` runs these alone."""

from __future__ import annotations

import io
import json
import re
import time
from email.utils import parseaddr
from typing import Any

import boto3
import pytest
import requests
from jose import jwt
from PIL import Image
from sqlalchemy import create_engine, inspect

from devtools.mailbox import sent_mails
from devtools.worker import schedule_event, sqs_event
from tests.helpers import PASSWORD, SES_SENDER
from tests.shared.test_migrate_handler import CloudFormation
from tests.stack.conftest import RunningStack

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.packaging]


class SiteVisitor:
    """A browser's cookie jar on the site. On AWS the site is HTTPS and its cookies are
    Secure; the local distribution is plain HTTP, so the jar sends them anyway."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        answer = self.session.request(method, self.base + path, timeout=60, allow_redirects=False, **kwargs)
        for cookie in self.session.cookies:
            cookie.secure = False
        return answer

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', self.get(path).text)
        assert found, f"no form on {path}"
        return found.group(1)


def test_every_function_starts_from_its_artifact_with_the_template_environment(running_stack: RunningStack):
    assert set(running_stack.functions) == {
        "UserApiFunction",
        "SendEmailFunction",
        "RepublishStalledMailFunction",
        "PostApiFunction",
        "WebFunction",
        "MigrateFunction",
        "AccessKeysFunction",
    }
    web = running_stack.functions["WebFunction"].environment
    # The APIs' own https addresses (the stack's network routes them to the local gateways).
    assert re.fullmatch(r"https://userapi\w+\.execute-api\.us-east-1\.amazonaws\.com/api", web["USER_API_URL"])
    assert web["PUBLIC_URL"] == running_stack.public_url
    assert "DATABASE_SECRET_ARN" not in web  # the site never talks to PostgreSQL
    user_api = running_stack.functions["UserApiFunction"].environment
    assert user_api["DATABASE_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert "DATABASE_URL" not in user_api and "LINK_SECRET" not in user_api  # only secrets' ARNs
    post_api = running_stack.functions["PostApiFunction"].environment
    assert "ACCESS_PUBLIC_KEYS_ARN" in post_api and "ACCESS_SIGNING_KEY_ARN" not in post_api


def test_the_journey(running_stack: RunningStack):
    stack = running_stack
    # 1. The deployment's custom resources: the migration builds the schema, the key function
    # makes the first access key (and leaves it alone on the next deployment).
    cloudformation = CloudFormation()
    try:
        stack.functions["MigrateFunction"].invoke(cloudformation.event("Create"))
        stack.functions["AccessKeysFunction"].invoke(cloudformation.event("Create"))
        stack.functions["AccessKeysFunction"].invoke(cloudformation.event("Update"))
    finally:
        cloudformation.server.shutdown()
    assert [a["Status"] for a in cloudformation.answers] == ["SUCCESS"] * 3, cloudformation.answers
    assert "made the first signing key" in cloudformation.answers[1]["Reason"]
    assert "left as it is" in cloudformation.answers[2]["Reason"]
    engine = create_engine(stack.database_url)
    assert {"users", "posts", "likes", "email_outbox"} <= set(inspect(engine).get_table_names())
    engine.dispose()

    # 2. The APIs, through their stages.
    users, posts = stack.api("UserApi"), stack.api("PostApi")
    for name in ("ann", "bob"):
        created = requests.post(
            f"{users}/users", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD}, timeout=30
        )
        assert created.status_code == 201, created.text
    tokens = {}
    for name in ("ann", "bob"):
        login = requests.post(
            f"{users}/user-auth", json={"email": f"{name}@example.com", "password": PASSWORD}, timeout=30
        )
        assert login.status_code == 200, login.text
        tokens[name] = login.json()["access_token"]
    # 3. The mail: the queue's messages, as the SQS mapping delivers them to the consumer.
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint, region_name="us-east-1")

    def deliver_mail(expected: int) -> list[Any]:
        received: dict[str, dict[str, Any]] = {}  # by id: the queue's 1 s visibility may show one twice
        for _ in range(5):
            for message in sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10).get("Messages", []):
                received[message["MessageId"]] = message  # its newest receipt handle
        messages = list(received.values())
        assert len(messages) == expected, [m["Body"] for m in messages]
        before = len([m for m in sent_mails(stack.endpoint) if SES_SENDER in m.headers.get("From", "")])
        answer = stack.functions["SendEmailFunction"].invoke(sqs_event(messages, stack.queue_arn, "us-east-1"))
        assert answer == {"batchItemFailures": []}
        for message in messages:  # what the event source mapping does with a batch that succeeded
            sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [m for m in sent_mails(stack.endpoint) if SES_SENDER in m.headers.get("From", "")][before:]

    welcomes = deliver_mail(2)
    assert sorted(parseaddr(m.to)[1] for m in welcomes) == ["ann@example.com", "bob@example.com"]
    # ann confirms her address with the welcome mail's link (notifications need it).
    [ann_welcome] = [m for m in welcomes if "ann@example.com" in m.to]
    [confirm_link] = [link for link in ann_welcome.links if "/confirm_email/" in link]
    confirmed = requests.post(f"{users}/email-confirmation", json={"token": confirm_link.rsplit("/", 1)[1]}, timeout=30)
    assert confirmed.status_code == 200, confirmed.text

    written = requests.post(
        f"{posts}/posts",
        json={"title": "Hello from the stack", "content": "Served from the artifacts."},
        headers={"Authorization": f"Bearer {tokens['ann']}"},
        timeout=30,
    )
    assert written.status_code == 201, written.text
    post_id = written.json()["data"]["id"]
    # A key rotation, as `make rotate-keys STAGE=...` invokes it. By default the new key is
    # published now and signs once every function has read it (tested in test_keys.py);
    # here it signs at once, in new containers of both APIs. ann's older token stays valid.
    old_kid = jwt.get_unverified_header(tokens["ann"])["kid"]
    rotated = stack.functions["AccessKeysFunction"].invoke({"action": "rotate", "activate_after_seconds": 0})
    assert rotated["kid"] != old_kid and rotated["revoked_others"] is False
    stack.functions["UserApiFunction"].recycle()
    stack.functions["PostApiFunction"].recycle()
    login = requests.post(f"{users}/user-auth", json={"email": "bob@example.com", "password": PASSWORD}, timeout=30)
    tokens["bob"] = login.json()["access_token"]
    assert jwt.get_unverified_header(tokens["bob"])["kid"] == rotated["kid"]
    # The next rotation, with the default delay: published at once, signing only later.
    pending = stack.functions["AccessKeysFunction"].invoke({"action": "rotate"})
    assert pending["signs_from"] >= time.time() + 10 * 60
    public_arn = stack.functions["PostApiFunction"].environment["ACCESS_PUBLIC_KEYS_ARN"]
    manager = boto3.client("secretsmanager", endpoint_url=stack.endpoint, region_name="us-east-1")
    published = json.loads(manager.get_secret_value(SecretId=public_arn)["SecretString"])["keys"]
    assert [key["kid"] for key in published] == [pending["kid"], rotated["kid"], old_kid]
    stack.functions["UserApiFunction"].recycle()
    again = requests.post(f"{users}/user-auth", json={"email": "bob@example.com", "password": PASSWORD}, timeout=30)
    assert jwt.get_unverified_header(again.json()["access_token"])["kid"] == rotated["kid"]
    edited = requests.put(
        f"{posts}/posts/{post_id}",
        json={"title": "Hello from the stack", "content": "Served from the artifacts, after a key rotation."},
        headers={"Authorization": f"Bearer {tokens['ann']}"},
        timeout=30,
    )
    assert edited.status_code == 200, edited.text
    liked = requests.post(
        f"{posts}/posts/{post_id}/likes", json={}, headers={"Authorization": f"Bearer {tokens['bob']}"}, timeout=30
    )
    assert liked.status_code == 201, liked.text
    assert requests.get(f"{posts}/posts/{post_id}", timeout=30).json()["data"]["likes"] == 1
    assert requests.get(f"{posts}/no-such-route", timeout=30).status_code == 403  # API Gateway's own answer

    [like_mail] = deliver_mail(1)
    assert parseaddr(like_mail.to)[1] == "ann@example.com" and like_mail.subject == "Someone Liked Your Post!"
    assert any(link.startswith(f"{stack.public_url}/posts/{post_id}") for link in like_mail.links)
    # The schedule's sweeper finds nothing left to queue.
    assert stack.functions["RepublishStalledMailFunction"].invoke(schedule_event()) is None

    # 4. The site, through the distribution's layout: its pages, links and stylesheet.
    site = SiteVisitor(stack.site.url)
    home = site.get("/")
    assert home.status_code == 200 and "Hello from the stack" in home.text
    # Outside dev: HSTS, and cookies only https can set for this very host.
    assert home.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "__Host-csrf=" in home.headers["Set-Cookie"] and "Secure" in home.headers["Set-Cookie"]
    links = set(re.findall(r'(?:href|src)="(/[^"]*)"', home.text))
    assert "/static/style.css" in {link.split("?")[0] for link in links}
    for link in sorted(links):
        answer = site.get(link)
        assert answer.status_code in (200, 303), (link, answer.status_code)
    style = site.get("/static/style.css")
    assert style.status_code == 200 and style.headers["Content-Type"].startswith("text/css")
    # An address no page has is the site's own 404 page (the greedy route), not API Gateway's 403.
    missing = site.get("/no/such/page")
    assert missing.status_code == 404 and "Page not found" in missing.text and "<nav" in missing.text

    # 5. A page that needs a login sends the visitor to log in, and back there after (the
    # path the site shows, without the API's stage).
    sent = site.get("/posts/new?from=home")
    assert sent.status_code == 303
    assert sent.headers["Location"] == "/login?next=%2Fposts%2Fnew%3Ffrom%3Dhome"
    csrf = site.csrf(sent.headers["Location"])
    logged_in = site.post(
        sent.headers["Location"], data={"csrf_token": csrf, "email": "ann@example.com", "password": PASSWORD}
    )
    assert logged_in.status_code == 303, logged_in.text
    assert logged_in.headers["Location"] == "/posts/new?from=home"
    assert site.get("/posts/new?from=home").status_code == 200

    # 6. An avatar uploaded on the site is served from /avatars/... by the distribution.
    csrf = site.csrf("/account")
    picture = io.BytesIO()
    Image.new("RGB", (300, 200), (40, 120, 200)).save(picture, "PNG")
    updated = site.post(
        "/account",
        data={"csrf_token": csrf, "username": "ann", "email": "ann@example.com"},
        files={"picture": ("me.png", picture.getvalue(), "image/png")},
    )
    assert updated.status_code == 303, updated.text
    [avatar] = set(re.findall(r'src="([^"]*/avatars/[^"]+)"', site.get("/account").text))
    assert avatar.startswith(f"{stack.public_url}/avatars/")
    image = site.get(avatar.removeprefix(stack.public_url))
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size[0] <= 300
