"""The mail the emulator's SES accepted: what `make dev` prints and the tests read.

LocalStack lists it at ``/_aws/ses``; moto's server in ``/moto-api/data.json``.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field

import requests

from devtools.aws import answering

LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class SentMail:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    raw: str = ""  # as SES received it

    @property
    def links(self) -> list[str]:
        """The links in the plain-text part, in order."""
        return LINK.findall(self.text)


def _parse(raw: str) -> SentMail:
    message = email.message_from_string(raw, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return SentMail(
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        text=text.get_content() if text is not None else "",
        html=html.get_content() if html is not None else "",
        headers={key: str(value) for key, value in message.items()},
        raw=raw,
    )


def sent_mails(endpoint: str) -> list[SentMail]:
    """Every mail sent through the emulator at ``endpoint`` so far, oldest first."""
    if answering(endpoint) == "localstack":
        messages = requests.get(f"{endpoint}/_aws/ses", timeout=10).json().get("messages", [])
        return [_parse(m["RawData"]) for m in messages if m.get("RawData")]
    data = requests.get(f"{endpoint}/moto-api/data.json", timeout=30).json().get("ses", {})
    return [_parse(m["raw_data"]) for m in data.get("RawMessage", [])]


def describe(mail: SentMail) -> list[str]:
    """A few lines for a log: recipient, subject and links."""
    lines = [f"mail to {mail.to}: {mail.subject}"]
    lines += [f"    {link}" for link in mail.links]
    return lines
