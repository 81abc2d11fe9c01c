"""Password hashing: an unknown account costs the same check as a known one."""

from __future__ import annotations

import importlib.util

from tests.helpers import REPO


def load_hashing():
    """The module alone (it needs only argon2): no app, no settings, no servers."""
    spec = importlib.util.spec_from_file_location("hashing", REPO / "user_api/chalicelib/passwords/hashing.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stand_in_hash_has_the_hashers_parameters():
    hashing = load_hashing()
    real = hashing.hash_password("correct horse battery")
    assert hashing.parameters_match(real)
    assert hashing.parameters_match(hashing.DUMMY_HASH)  # same memory, time and lanes: same cost
    assert hashing.DUMMY_HASH.split("$")[1:4] == real.split("$")[1:4]
    assert not hashing.verify_password(None, "anything")
    assert hashing.verify_password(real, "correct horse battery")
