"""user_json builds by hand what UserSchema documents (it is on every post of every list)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blog_shared.models import User
from blog_shared.users import UserSchema, user_json

PRIVATE = ("email", "email_notifications", "email_confirmed")


def someone(user_id: int, **extra: object) -> User:
    user = User(
        id=user_id,
        username=f"user{user_id}",
        email=f"user{user_id}@example.com",
        from_oauth=False,
        image_filename=None,
        email_notifications=True,
        **extra,
    )
    user.following_count, user.follower_count = 3, 5
    return user


@pytest.mark.parametrize("confirmed", [None, datetime(2026, 1, 1, tzinfo=UTC)])
def test_user_json_is_what_the_schema_documents(confirmed):
    ann = someone(1, email_confirmed_at=confirmed)
    bob = someone(2)
    assert user_json(ann, ann) == UserSchema().dump(ann)
    assert user_json(ann, bob) == UserSchema(exclude=PRIVATE).dump(ann)
    assert user_json(ann) == UserSchema(exclude=PRIVATE).dump(ann)
