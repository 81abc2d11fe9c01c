"""Dependencies are declared once (pyproject.toml), locked (uv.lock), and everything installed
comes from the lock: the dev environment and each app's deployment requirements."""

from __future__ import annotations

import importlib.metadata
import re

import pytest

from devtools import lock
from tests.helpers import applies, requirements

REPO = lock.REPO
APP_REQUIREMENTS = [name for name in lock.EXPORTS if name != "requirements-dev.txt"]
# The pure-Python crypto python-jose falls back to without its cryptography backend.
NEVER_INSTALLED = {"ecdsa", "rsa", "pyasn1"}


def test_the_lock_and_every_requirements_file_are_current() -> None:
    assert lock.stale() == []


@pytest.mark.parametrize("name", APP_REQUIREMENTS)
def test_deployment_requirements_are_pinned_exactly(name: str) -> None:
    found = requirements(REPO / name)
    assert found
    for requirement in found:
        assert re.fullmatch(r"==[\w.+-]+", str(requirement.specifier)), requirement
    assert not {r.name for r in found if applies(r)} & NEVER_INSTALLED


def test_the_dev_environment_is_the_locked_one() -> None:
    pinned = [r for r in requirements(REPO / "requirements-dev.txt") if applies(r)]
    assert len(pinned) > 50
    wrong = {
        r.name: importlib.metadata.version(r.name)
        for r in pinned
        if importlib.metadata.version(r.name) != str(r.specifier).removeprefix("==")
    }
    assert wrong == {}, "run `make venv` after `make lock`"
    for name in NEVER_INSTALLED:
        with pytest.raises(importlib.metadata.PackageNotFoundError):
            importlib.metadata.version(name)


def test_no_other_file_declares_dependencies() -> None:
    assert not (REPO / "shared" / "pyproject.toml").exists()
    for name in lock.EXPORTS:
        assert (REPO / name).read_text().startswith(lock.HEADER)
