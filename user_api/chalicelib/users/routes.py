"""/users: look up, register and update users."""

from __future__ import annotations

from chalice.app import Response

from blog_shared import limits, mail
from blog_shared.auth import require_self, require_service
from blog_shared.deps import RequestScope, request_scope
from blog_shared.errors import ForbiddenError, InvalidError, ThrottledError, UnauthenticatedError
from blog_shared.http import ApiBlueprint, path_id, success
from blog_shared.models import User
from blog_shared.openapi import doc
from blog_shared.users import UserSchema, user_json

from ..auth import store as auth_store
from ..sessions import token_response
from . import confirmations, store
from .emails import login_key
from .schemas import (
    LinkTokenSchema,
    OAuthUserSchema,
    UnsubscribeSchema,
    UserCreateSchema,
    UserQuerySchema,
    UserUpdateSchema,
)

bp = ApiBlueprint(__name__)


@bp.route("/users", methods=["GET"])
@doc(
    "Find a user by username or email",
    response=UserSchema,
    errors=(400, 401, 403, 404),
    query=UserQuerySchema,
    auth="optional",
)
def find_user() -> Response:
    """Looking a user up by email needs that user's own token, so emails cannot be probed."""
    with request_scope(bp) as scope:
        query = scope.query(UserQuerySchema)
        username, email = query.get("username"), query.get("email")
        viewer = scope.viewer
        if username:
            user = store.get_user_by_username(scope.db, username)
        elif email:
            if viewer is None:
                raise UnauthenticatedError("Looking a user up by email needs that user's token.")
            if viewer.email_canonical != login_key(email):
                raise ForbiddenError("You can only look up your own email.")
            user = viewer
        else:
            raise InvalidError("Username or email argument not provided")
        return success(user_json(user, viewer))


@bp.route("/users", methods=["POST"])
@doc("Register a user", body=UserCreateSchema, response=UserSchema, status=201, errors=(400, 413, 429))
def create_user() -> Response:
    """At most 10 accounts an hour from one address (429 with Retry-After)."""
    with request_scope(bp) as scope:
        data = scope.body(UserCreateSchema)
        scope.limit(limits.REGISTER)  # before the password is hashed
        user = store.create_user(scope.db, data["username"], data["email"], data["password"])
        mail.enqueue(scope.db, mail.WELCOME, f"welcome:{user.id}", user.id)
        return success(user_json(user, user), status=201)


@bp.route("/users/{user_id}", methods=["GET"])
@doc("Get a user by id", response=UserSchema, errors=(401, 404), auth="optional")
def get_user(user_id: str) -> Response:
    with request_scope(bp) as scope:
        viewer = scope.viewer
        user = store.get_user(scope.db, path_id(user_id, f"No user with id {user_id}"))
        return success(user_json(user, viewer))


@bp.route("/users/{user_id}", methods=["PUT"])
@doc(
    "Update your own user",
    body=UserUpdateSchema,
    response=UserSchema,
    errors=(400, 401, 403, 404, 413, 429),
    auth="required",
)
def update_user(user_id: str) -> Response:
    """Changing the email or the password needs ``current_password`` (an account made with
    Google or GitHub sets its first password through the reset link: 403 here). A new email
    takes effect once confirmed from the link mailed to it; the answer then carries
    ``email_pending``. A new password voids every token issued before; the answer then
    carries a fresh ``access_token``."""
    with request_scope(bp) as scope:
        viewer = scope.user
        user = store.get_user(scope.db, path_id(user_id, f"No user with id {user_id}"))
        require_self(viewer, user.id)
        changes = scope.body(UserUpdateSchema)
        if store.needs_current_password(user, changes):
            check_current_password(scope, user, changes.get("current_password"))
        if store.new_email(user, changes) is not None:
            scope.limit(limits.CONFIRMATION_MAIL, user.id)  # each asks for a mail to the new address
        update = store.update_user(scope.db, user, changes)
        response = token_response(user) if update.password_changed else success(user_json(user, user))
        if update.email_pending:
            assert isinstance(response.body, dict)
            response.body["email_pending"] = update.email_pending
            response.body["message"] = (
                f"We sent a link to {update.email_pending}: the change takes effect once it is opened."
            )
        return response


def check_current_password(scope: RequestScope, user: User, given: str | None) -> None:
    """The current password, checked as a login attempt on the account from this client
    (same throttling, failures counted even though the request fails), so a stolen session
    cannot guess it any faster than a login could. An account without one sets it through
    the reset link."""
    if user.password_hash is None:
        raise ForbiddenError(store.NO_PASSWORD_YET)
    if not given:
        raise InvalidError.field("current_password", store.CURRENT_PASSWORD_NEEDED)
    client = scope.client_address
    result = auth_store.attempt_login(scope.db, user.email, given, client)
    if result.outcome == "throttled":
        raise ThrottledError("Too many wrong passwords. Try again later.", result.retry_after)
    if result.outcome != "ok":
        key = user.email_canonical
        scope.on_failure(lambda db: auth_store.record_failure(db, key, client))
        raise InvalidError.field("current_password", store.CURRENT_PASSWORD_WRONG)


@bp.route("/users/{user_id}/email-confirmation", methods=["POST"])
@doc("Mail the link that confirms your address again", status=202, errors=(401, 403, 404, 429), auth="required")
def send_confirmation_again(user_id: str) -> Response:
    """At most 3 an hour; nothing is sent for a confirmed address."""
    with request_scope(bp) as scope:
        viewer = scope.user
        require_self(viewer, path_id(user_id, f"No user with id {user_id}"))
        scope.limit(limits.CONFIRMATION_MAIL, viewer.id)
        confirmations.send_again(scope.db, viewer)
    return success(None, status=202, message="If your address still needs confirming, we sent it a new link.")


@bp.route("/email-confirmation", methods=["POST"])
@doc("Confirm an address with the token of a mailed link", body=LinkTokenSchema, response=UserSchema, errors=(400, 413))
def confirm_email() -> Response:
    """The account's own address (the welcome mail's link), or a new one a change asked for:
    it then replaces the old address, which is told, with a link to undo the change."""
    with request_scope(bp) as scope:
        user = confirmations.confirm(scope.db, scope.body(LinkTokenSchema)["token"])
        return success(user_json(user, user), message=f"Your email address {user.email} is confirmed.")


@bp.route("/email-change/undo", methods=["POST"])
@doc("Undo a change of address with the token of the old address's link", body=LinkTokenSchema, errors=(400, 413))
def undo_email_change() -> Response:
    """Puts the old address back and ends every session of the account."""
    with request_scope(bp) as scope:
        user = confirmations.undo_change(scope.db, scope.body(LinkTokenSchema)["token"])
        message = (
            f"The address is {user.email} again and every session has ended. If someone else knew your "
            'password, set a new one with "Forgot password?".'
        )
        return success({"username": user.username}, message=message)


@bp.route("/oauth-users", methods=["POST"])
@doc(
    "Sign in with Google or GitHub (for web_frontend only)",
    body=OAuthUserSchema,
    response=UserSchema,
    status=(200, 201),
    errors=(400, 401, 403, 409),
    auth="required",
)
def oauth_user() -> Response:
    """Finds the account of a provider-verified email (200) or creates it (201; ``from_oauth``, no
    password until one is set by a reset), and returns it with an access token. Needs a
    service token from web_frontend, never a user's token."""
    require_service(bp.current_request, "web_frontend")
    with request_scope(bp) as scope:
        data = scope.body(OAuthUserSchema)
        user, created = store.find_or_create_oauth_user(scope.db, data["email"], data["username_hint"])
        if created:
            mail.enqueue(scope.db, mail.WELCOME, f"welcome:{user.id}", user.id)
    return token_response(user, remember=data["remember"], status=201 if created else 200)


@bp.route("/email-preferences/unsubscribe/preview", methods=["POST"])
@doc(
    "Whose mail an unsubscribe link's token would turn off (changes nothing)", body=UnsubscribeSchema, errors=(400, 413)
)
def unsubscribe_preview() -> Response:
    """Answers ``{"username"}``: the site checks a link with this before it shows its form
    (the link secret is user_api's alone)."""
    with request_scope(bp) as scope:
        user = store.unsubscribe_target(scope.db, scope.body(UnsubscribeSchema)["token"])
        return success({"username": user.username})


@bp.route("/email-preferences/unsubscribe", methods=["POST"])
@doc("Stop notification mail, with the token of a mail's unsubscribe link", body=UnsubscribeSchema, errors=(400, 413))
def unsubscribe() -> Response:
    """Answers ``{"username", "email_notifications": false}``. Turn mail on again with
    ``PUT /users/{id}`` and ``email_notifications: true``."""
    with request_scope(bp) as scope:
        user = store.unsubscribe(scope.db, scope.body(UnsubscribeSchema)["token"])
        return success(
            {"username": user.username, "email_notifications": False},
            message="You will no longer get mail about likes, comments and followers.",
        )
