"""The one answer that hands out an access token (log in, sign in with a provider, a
password change): the user and the token, its type and lifetime."""

from __future__ import annotations

from chalice.app import Response

from blog_shared.auth import issue_access_token
from blog_shared.http import success
from blog_shared.models import User
from blog_shared.users import user_json


def token_response(user: User, remember: bool = False, status: int = 200) -> Response:
    token = issue_access_token(user, remember=remember)
    return success(
        user_json(user, user),
        status=status,
        access_token=token.token,
        token_type="Bearer",
        expires_in=token.expires_in,
    )
