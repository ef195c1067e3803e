"""Signing in and out: session rotation, throttling, and sessions that end when they must."""
from sqlalchemy import select

from core.audit.models import AuditRecord
from core.auth import services
from core.auth.models import User
from core.testing import WebClient, make_user


def _audit_actions(app, action):
    from core.db import session

    with app.app_context():
        return list(session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars())


def test_login_and_logout(client, admin):
    response = client.login(*admin)
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200
    token = client.csrf_token("/dashboard")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/dashboard").status_code == 302


def test_login_rotates_the_session(client, admin):
    before_token = client.csrf_token("/login")
    before_cookie = client.get_cookie("kontor_session").value
    assert client.login(*admin).status_code == 302
    after_cookie = client.get_cookie("kontor_session").value
    assert after_cookie != before_cookie
    assert client.csrf_token("/dashboard") != before_token  # nothing of the old session survives


def test_login_goes_to_a_local_next_page_only(client, admin):
    token = client.csrf_token("/login")
    data = {"username": admin[0], "password": admin[1], "csrf_token": token}
    response = client.post("/login?next=/\\evil.example", data=data)
    assert response.headers["Location"] == "/dashboard"
    client.post("/logout", data={"csrf_token": client.csrf_token("/dashboard")})
    data["csrf_token"] = client.csrf_token("/login")
    response = client.post("/login?next=/profile", data=data)
    assert response.headers["Location"] == "/profile"


def test_five_failures_lock_the_login_and_are_audited(app, client, admin):
    for _ in range(5):
        assert client.login(admin[0], "wrong password!").status_code == 401
    response = client.login(*admin)  # even the right password is refused while locked
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    failed = _audit_actions(app, "login.failed")
    assert len(failed) == 5
    assert admin[0] in failed[0].changes
    assert len(_audit_actions(app, "login.locked")) == 1


def test_a_success_clears_the_failures_of_the_name(client, admin):
    for _ in range(3):
        client.login(admin[0], "wrong password!")
    assert client.login(*admin).status_code == 302


def test_deactivation_ends_a_session_and_a_token(app, dispatcher, admin_client):
    user_id, password = make_user(app, "clerk", [])
    clerk = WebClient(dispatcher)
    assert clerk.login("clerk", password).status_code == 302
    assert clerk.get("/profile").status_code == 200
    from core.auth.tokens import create_token
    from core.db import session

    with app.app_context():
        _, secret = create_token(session, session.get(User, user_id), "script")
        session.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert clerk.get("/api/v1/nothing", headers=bearer).status_code == 404  # authenticated: no 401

    response = admin_client.post_form(f"/admin/users/{user_id}/deactivate", {})
    assert response.status_code == 302

    assert clerk.get("/profile").status_code == 302  # sent to the login page
    anonymous = WebClient(dispatcher)
    assert anonymous.get("/api/v1/users", headers=bearer).status_code == 401
    assert clerk.login("clerk", password).status_code == 401


def test_password_change_ends_the_other_sessions(app, dispatcher):
    make_user(app, "clerk", [], "first password 1")
    here, elsewhere = WebClient(dispatcher), WebClient(dispatcher)
    assert here.login("clerk", "first password 1").status_code == 302
    assert elsewhere.login("clerk", "first password 1").status_code == 302
    response = here.post_form("/profile", {"full_name": "Clerk", "email": "", "locale": "en",
                                           "current_password": "first password 1",
                                           "new_password": "second password 2"})
    assert response.status_code == 302
    assert here.get("/profile").status_code == 200  # this session was renewed
    assert elsewhere.get("/profile").status_code == 302  # the other one ended


def test_profile_refuses_a_wrong_current_password(app, dispatcher):
    make_user(app, "clerk", [], "first password 1")
    client = WebClient(dispatcher)
    client.login("clerk", "first password 1")
    response = client.post_form("/profile", {"full_name": "Changed", "locale": "en",
                                             "current_password": "nope", "new_password": "second password 2"})
    assert response.status_code == 422
    assert "The current password is wrong." in response.get_data(as_text=True)
    from core.db import session

    with app.app_context():
        user = services.find_user(session, "clerk")
        assert user.full_name == ""  # nothing changed


def test_profile_names_a_bad_email(app, dispatcher):
    make_user(app, "clerk", [], "first password 1")
    client = WebClient(dispatcher)
    client.login("clerk", "first password 1")
    response = client.post_form("/profile", {"full_name": "", "email": "not-an-email", "locale": "en"})
    assert response.status_code == 422
    assert 'id="e-email"' in response.get_data(as_text=True)
