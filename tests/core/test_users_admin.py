"""The users pages: list and search, create with a password shown once, edit, deactivate, reset."""
import re

from core.auth import services
from core.auth.tokens import create_token, user_for_token
from core.testing import WebClient, make_user


def _shown_password(page: str) -> str:
    match = re.search(r'<code id="new-password">([^<]+)</code>', page)
    assert match, page
    return match.group(1)


def test_list_searches_and_pages(app, admin_client):
    from core.db import session

    with app.app_context():
        for n in range(30):
            session.add(services.User(username=f"user{n:02d}", password_hash="x", session_nonce="n"))
        session.commit()
    first = admin_client.get("/admin/users").get_data(as_text=True)
    assert "user00" in first and "user30" not in first
    assert 'rel="next"' in first
    cursor = re.search(r'rel="next" href="[^"]*after=([^"&]+)', first).group(1)
    second = admin_client.get(f"/admin/users?after={cursor}").get_data(as_text=True)
    assert "user29" in second and ">user00<" not in second
    found = admin_client.get("/admin/users?q=USER17").get_data(as_text=True)
    assert "user17" in found and "user18" not in found
    partial = admin_client.htmx("GET", "/admin/users?q=user1").get_data(as_text=True)
    assert "<html" not in partial and 'id="user-list"' in partial


def test_create_shows_a_generated_password_once(app, dispatcher, admin_client):
    response = admin_client.post_form("/admin/users/new", {"username": "bookkeeper", "full_name": "Berit",
                                                           "email": "berit@example.com", "roles": ["admin"]})
    assert response.status_code == 201
    password = _shown_password(response.get_data(as_text=True))
    from core.db import session

    with app.app_context():
        user = services.find_user(session, "bookkeeper")
        assert (user.full_name, user.email, user.role_names) == ("Berit", "berit@example.com", ["admin"])
    user_page = admin_client.get(f"/admin/users/{user.id}")
    assert user_page.status_code == 200 and password not in user_page.get_data(as_text=True)
    assert WebClient(dispatcher).login("bookkeeper", password).status_code == 302


def test_create_names_the_bad_field_and_changes_nothing(app, admin_client):
    response = admin_client.post_form("/admin/users/new", {"username": "new user", "email": "x@example.com"})
    assert response.status_code == 422
    assert 'id="e-username"' in response.get_data(as_text=True)
    response = admin_client.post_form("/admin/users/new", {"username": "newuser", "email": "nope"})
    assert response.status_code == 422
    assert 'id="e-email"' in response.get_data(as_text=True)
    from core.db import session

    with app.app_context():
        assert session.execute(services.users_query("newuser")).first() is None


def test_edit_changes_name_email_locale_and_roles(app, admin_client):
    user_id, _ = make_user(app, "clerk", [])
    from core.db import session

    with app.app_context():
        services.create_role(session, "sales", "Sales")
        session.commit()
    assert admin_client.get(f"/admin/users/{user_id}/edit").status_code == 200
    response = admin_client.post_form(f"/admin/users/{user_id}/edit", {
        "full_name": "Clara Clerk", "email": "clara@example.com", "locale": "da", "roles": ["sales"]})
    assert response.status_code == 302
    with app.app_context():
        user = services.get_user(session, user_id)
        assert (user.full_name, user.email, user.locale, user.role_names) == (
            "Clara Clerk", "clara@example.com", "da", ["sales"])
    response = admin_client.post_form(f"/admin/users/{user_id}/edit", {"locale": "xx", "roles": ["nope"]})
    assert response.status_code == 422
    assert 'id="e-locale"' in response.get_data(as_text=True)


def test_deactivate_and_reactivate(app, dispatcher, admin_client):
    user_id, password = make_user(app, "clerk", [])
    page = admin_client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert 'data-confirm="Deactivate clerk?' in page
    admin_client.post_form(f"/admin/users/{user_id}/deactivate", {})
    assert WebClient(dispatcher).login("clerk", password).status_code == 401
    admin_client.post_form(f"/admin/users/{user_id}/reactivate", {})
    assert WebClient(dispatcher).login("clerk", password).status_code == 302


def test_the_last_admin_cannot_be_deactivated(app, dispatcher, admin_client):
    from core.db import session

    with app.app_context():
        admin_id = services.find_user(session, "admin").id
    response = admin_client.post_form(f"/admin/users/{admin_id}/deactivate", {}, follow_redirects=True)
    assert "The last active administrator cannot be deactivated." in response.get_data(as_text=True)
    assert admin_client.get("/dashboard").status_code == 200


def test_reset_password_shows_a_new_one_and_ends_sessions(app, dispatcher, admin_client):
    user_id, old = make_user(app, "clerk", [])
    clerk = WebClient(dispatcher)
    clerk.login("clerk", old)
    response = admin_client.post_form(f"/admin/users/{user_id}/reset-password", {})
    new = _shown_password(response.get_data(as_text=True))
    assert new != old
    assert clerk.get("/profile").status_code == 302
    assert WebClient(dispatcher).login("clerk", old).status_code == 401
    assert WebClient(dispatcher).login("clerk", new).status_code == 302


def test_admin_revokes_a_users_token(app, admin_client):
    user_id, _ = make_user(app, "clerk", [])
    from core.db import session

    with app.app_context():
        token, secret = create_token(session, services.get_user(session, user_id), "script")
        session.commit()
    page = admin_client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "script" in page and secret not in page
    response = admin_client.post_form(f"/admin/users/{user_id}/tokens/{token.id}/revoke", {})
    assert response.status_code == 302
    with app.app_context():
        assert user_for_token(session, secret) is None


def test_reader_sees_users_but_cannot_change_them(app, dispatcher):
    from core.db import session

    with app.app_context():
        services.create_role(session, "user_reader", permissions=["core.user.read"])
        session.commit()
    make_user(app, "reader", ["user_reader"], "reader password 1")
    reader = WebClient(dispatcher)
    reader.login("reader", "reader password 1")
    page = reader.get("/admin/users").get_data(as_text=True)
    assert "reader" in page and "New user" not in page
    assert reader.get("/admin/users/new").status_code == 403
    assert 'href="/admin/users"' in reader.get("/dashboard").get_data(as_text=True)  # menu item
    assert 'href="/admin/roles"' not in reader.get("/dashboard").get_data(as_text=True)
