"""/users and /users/<id>: registration, look-ups, updates, validation and authorization."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import PASSWORD

USER_FIELDS = {"id", "username", "from_oauth", "image_filename", "image_url", "following_count", "follower_count"}


# POST /users ---------------------------------------------------------------------------------


def test_register_returns_201_and_the_user_with_email(users):
    response = users.post("/users", {"username": "ann", "email": "ann@example.com", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json_body
    assert body["status"] == "success"
    assert set(body["data"]) == USER_FIELDS | {"email", "email_notifications", "email_confirmed"}
    assert body["data"]["username"] == "ann"
    assert body["data"]["email"] == "ann@example.com"
    assert body["data"]["following_count"] == 0 and body["data"]["follower_count"] == 0
    assert body["data"]["image_url"].startswith("data:image/svg+xml")
    assert "password" not in body["data"] and "password_hash" not in body["data"]


def test_password_is_stored_as_argon2id(users, database_url):
    users.register("ann")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE username = 'ann'")).scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_register_taken_username_and_email_give_the_seed_messages(users):
    users.register("ann", "ann@example.com")
    taken_name = users.post("/users", {"username": "ann", "email": "other@example.com", "password": PASSWORD})
    assert taken_name.status_code == 400
    assert taken_name.json_body["message"] == "This username has been taken."
    assert taken_name.json_body["status"] == "fail"
    taken_email = users.post("/users", {"username": "bob", "email": "ANN@Example.com", "password": PASSWORD})
    assert taken_email.status_code == 400
    assert taken_email.json_body["message"] == "This email has been taken."
    same_name_other_case = users.post("/users", {"username": "ANN", "email": "x@example.com", "password": PASSWORD})
    assert same_name_other_case.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "a", "email": "a@example.com", "password": PASSWORD}, "username"),
        ({"username": "a" * 21, "email": "a@example.com", "password": PASSWORD}, "username"),
        ({"username": "bad name", "email": "a@example.com", "password": PASSWORD}, "username"),
        ({"username": "<script>", "email": "a@example.com", "password": PASSWORD}, "username"),
        ({"username": "ann", "email": "not-an-email", "password": PASSWORD}, "email"),
        ({"username": "ann", "email": "a@example.com", "password": "short"}, "password"),
        ({"username": "ann", "email": "a@example.com", "password": "x" * 129}, "password"),
        ({"username": "ann", "email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD}, "username"),
        ({"username": 123, "email": "a@example.com", "password": PASSWORD}, "username"),
        ({"username": "ann", "email": ["a@example.com"], "password": PASSWORD}, "email"),
        ({"username": "ann", "email": "a@example.com", "password": PASSWORD, "is_admin": True}, "is_admin"),
    ],
)
def test_register_validation_errors_name_the_field(users, body, field):
    response = users.post("/users", body)
    assert response.status_code == 400
    assert response.json_body["status"] == "fail"
    assert field in response.json_body["errors"]


@pytest.mark.slow
def test_username_boundaries_and_trimming(users):
    assert users.post("/users", {"username": "ab", "email": "ab@example.com", "password": "x" * 8}).status_code == 201
    twenty = "a.b-c_" + "d" * 14
    response = users.post("/users", {"username": twenty, "email": "t@example.com", "password": "x" * 128})
    assert response.status_code == 201
    padded = users.post("/users", {"username": "  carol  ", "email": " carol@example.com ", "password": PASSWORD})
    assert padded.status_code == 201
    assert padded.json_body["data"]["username"] == "carol"
    assert padded.json_body["data"]["email"] == "carol@example.com"


@pytest.mark.parametrize(
    "raw",
    ["{not json", "[1, 2, 3]", '"a string"', "null", "\xff\xfe"],
)
def test_malformed_bodies_are_400_not_500(users, raw):
    response = users.post("/users", raw=raw)
    assert response.status_code == 400
    assert response.json_body["status"] == "fail"


def test_huge_body_is_413(users):
    response = users.post("/users", {"username": "ann", "email": "a@example.com", "password": "x" * 100_000})
    assert response.status_code == 413
    assert response.json_body["message"] == "Request body is too large."


def test_failed_registration_writes_nothing(users, database_url):
    users.register("ann", "ann@example.com")
    users.post("/users", {"username": "bob", "email": "ann@example.com", "password": PASSWORD})
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 1
    engine.dispose()


# GET /users?username= / ?email= ------------------------------------------------------------------


def test_find_by_username_hides_email_from_others(users):
    users.register("ann")
    response = users.get("/users?username=ann")
    assert response.status_code == 200
    assert response.json_body["data"]["username"] == "ann"
    assert "email" not in response.json_body["data"]
    assert users.get("/users?username=ANN").json_body["data"]["username"] == "ann"


def test_find_by_username_shows_email_to_self(users):
    _, token = users.register_and_login("ann")
    response = users.get("/users?username=ann", token=token)
    assert response.json_body["data"]["email"] == "ann@example.com"


def test_find_unknown_username_is_404_with_the_seed_message(users):
    response = users.get("/users?username=nobody")
    assert response.status_code == 404
    assert response.json_body["message"] == "No user with username nobody"


def test_find_without_arguments_is_400_with_the_seed_message(users):
    response = users.get("/users")
    assert response.status_code == 400
    assert response.json_body["message"] == "Username or email argument not provided"


@pytest.mark.slow
def test_find_by_email_needs_that_users_token(users):
    _, ann_token = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    assert users.get("/users?email=ann@example.com").status_code == 401
    assert users.get("/users?email=ann@example.com", token=bob_token).status_code == 403
    mine = users.get("/users?email=ANN@example.com", token=ann_token)
    assert mine.status_code == 200
    assert mine.json_body["data"]["email"] == "ann@example.com"


# GET /users/<id> ---------------------------------------------------------------------------------


def test_get_user_by_id(users):
    ann = users.register("ann")
    response = users.get(f"/users/{ann['id']}")
    assert response.status_code == 200
    assert response.json_body["data"]["id"] == ann["id"]
    assert "email" not in response.json_body["data"]


@pytest.mark.parametrize("raw_id", ["999", "abc", "0", "-1", "99999999999999999999", "1.5"])
def test_get_missing_or_malformed_id_is_404(users, raw_id):
    response = users.get(f"/users/{raw_id}")
    assert response.status_code == 404
    assert response.json_body["status"] == "fail"


# PUT /users/<id> ---------------------------------------------------------------------------------


def test_update_own_user(users):
    ann, token = users.register_and_login("ann")
    response = users.put(
        f"/users/{ann['id']}",
        {
            "username": "annie",
            "email": "annie@example.com",
            "current_password": PASSWORD,
            "image_filename": f"avatars/{ann['id']}-0123456789abcdef.jpg",
        },
        token=token,
    )
    assert response.status_code == 200
    data = response.json_body["data"]
    # The new address takes effect once confirmed from its mail.
    assert (data["username"], data["email"], data["image_filename"]) == (
        "annie",
        "ann@example.com",
        f"avatars/{ann['id']}-0123456789abcdef.jpg",
    )
    assert response.json_body["email_pending"] == "annie@example.com"
    assert users.get(f"/users/{ann['id']}").json_body["data"]["username"] == "annie"


@pytest.mark.slow
def test_update_needs_a_token_and_only_acts_for_yourself(users):
    ann, _ = users.register_and_login("ann")
    _, bob_token = users.register_and_login("bob")
    anonymous = users.put(f"/users/{ann['id']}", {"username": "x1"})
    assert anonymous.status_code == 401
    assert "Bearer" in anonymous.headers["WWW-Authenticate"]
    other = users.put(f"/users/{ann['id']}", {"username": "hacked"}, token=bob_token)
    assert other.status_code == 403
    assert users.get(f"/users/{ann['id']}").json_body["data"]["username"] == "ann"


def test_update_missing_user_is_404(users):
    _, token = users.register_and_login("ann")
    assert users.put("/users/424242", {"username": "x1"}, token=token).status_code == 404


@pytest.mark.slow
def test_update_to_a_taken_name_or_email_is_400(users):
    ann, token = users.register_and_login("ann")
    users.register("bob")
    taken = users.put(f"/users/{ann['id']}", {"username": "Bob"}, token=token)
    assert taken.status_code == 400 and taken.json_body["message"] == "This username has been taken."
    taken = users.put(f"/users/{ann['id']}", {"email": "bob@example.com", "current_password": PASSWORD}, token=token)
    assert taken.status_code == 400 and taken.json_body["message"] == "This email has been taken."
    same = users.put(f"/users/{ann['id']}", {"username": "ann"}, token=token)
    assert same.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "x"},
        {"email": "nope"},
        {"image_filename": "../../etc/passwd"},
        {"image_filename": "/abs.png"},
        {"image_filename": "avatars/999-0123456789abcdef.jpg"},  # someone else's picture
        {"image_filename": "avatars/1-abc.jpg"},
        {"id": 5},
        {"from_oauth": True},
    ],
)
def test_update_validation(users, body):
    ann, token = users.register_and_login("ann")
    response = users.put(f"/users/{ann['id']}", body, token=token)
    assert response.status_code == 400
    assert response.json_body["errors"]


@pytest.mark.slow
def test_password_change_needs_current_password_and_voids_old_tokens(users):
    ann, token = users.register_and_login("ann")
    wrong = users.put(f"/users/{ann['id']}", {"password": "new password 1", "current_password": "nope"}, token=token)
    assert wrong.status_code == 400 and "current_password" in wrong.json_body["errors"]
    changed = users.put(
        f"/users/{ann['id']}", {"password": "new password 1", "current_password": PASSWORD}, token=token
    )
    assert changed.status_code == 200
    fresh = changed.json_body["access_token"]
    assert users.put(f"/users/{ann['id']}", {"username": "ann2"}, token=token).status_code == 401
    assert users.put(f"/users/{ann['id']}", {"username": "ann2"}, token=fresh).status_code == 200
    assert users.post("/user-auth", {"email": "ann@example.com", "password": PASSWORD}).status_code == 401
    assert users.login("ann@example.com", "new password 1")


@pytest.mark.slow
def test_oauth_accounts_cannot_change_username_or_email(users, database_url):
    ann, token = users.register_and_login("ann")
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET from_oauth = true WHERE id = :id"), {"id": ann["id"]})
    engine.dispose()
    assert users.put(f"/users/{ann['id']}", {"username": "other"}, token=token).status_code == 403
    picture = f"avatars/{ann['id']}-0123456789abcdef.jpg"
    assert users.put(f"/users/{ann['id']}", {"image_filename": picture}, token=token).status_code == 200
