"""Account email addresses: validated once with email-validator, stored normalised, and
compared by their canonical form (``blog_shared.users.canonical_email``), which Python
computes and SQL only compares for equality, so the two can never disagree (a database with
the C collation does not lower-case "Ä", Python does).

The rules: a mailbox part in ASCII (SES sends nothing else), an internationalised domain
by IDNA 2008, no IP literals, no control characters, no special-use domains; ``localhost``
only in the dev stage.
"""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from marshmallow import ValidationError

from blog_shared.config import get_settings
from blog_shared.users import canonical_email
from blog_shared.validation import Trimmed

MAX_LENGTH = 254

# What the rules above allow, as an OpenAPI pattern: an ASCII mailbox of at most 64
# characters, a domain of ASCII labels (internationalised domains are accepted too, by
# IDNA 2008, which no pattern can state), never a special-use one.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def openapi_pattern(dev: bool) -> str:
    names = ["arpa", "invalid", "local", "onion", "test", *([] if dev else ["localhost"])]
    special = "|".join("".join(f"[{c.upper()}{c}]" for c in name) for name in names)  # any case
    domain = rf"(?:(?:{_LABEL}\.)+[A-Za-z]{{2,63}}{'|localhost' if dev else ''})"
    return rf"^(?=[^@]{{1,64}}@)(?!.*@(?:[^@]*\.)?(?:{special})$){_ATEXT}+(?:\.{_ATEXT}+)*@{domain}$"


def normalized(address: str) -> str:
    """The address as an account stores it; ValueError with a reason when it is not one."""
    if len(address) > MAX_LENGTH:
        raise ValueError(f"Email must be at most {MAX_LENGTH} characters long.")
    local, _, domain = address.rpartition("@")
    if domain.lower() == "localhost" and get_settings().is_dev:
        _check(f"{local}@localhost.test", test_environment=True)  # the mailbox part's rules
        return f"{local}@localhost"
    return str(_check(address).normalized)


def mail_address(stored: str) -> str | None:
    """A stored address as a mail header carries it (its domain in ASCII), or None."""
    if stored.lower().endswith("@localhost"):
        return stored if get_settings().is_dev else None
    try:
        return str(_check(stored).ascii_email)
    except ValueError:
        return None


def login_key(raw: str) -> str | None:
    """The canonical form of an address typed to log in or to ask for a reset (None when it
    cannot be an account's). An address today's rules refuse may still be an account's from
    before them (``x@host.local``): it is looked up as typed."""
    address = raw.strip()
    try:
        return canonical_email(normalized(address))
    except ValueError:
        as_typed = canonical_email(address)
        return as_typed if "@" in as_typed and len(as_typed) <= MAX_LENGTH else None


def _check(address: str, test_environment: bool = False) -> Any:
    try:
        return validate_email(
            address,
            check_deliverability=False,  # no DNS lookups in a request
            allow_smtputf8=False,
            allow_domain_literal=False,
            allow_quoted_local=False,
            test_environment=test_environment,
        )
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None


class AccountEmail(Trimmed):
    """An account's address, loaded in its normalised form."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": openapi_pattern(get_settings().is_dev), **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalized(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None
