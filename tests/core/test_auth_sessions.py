"""Signing out ends the session for good, and the profile's e-mail needs the current password."""
from sqlalchemy import select

from core.audit.models import AuditRecord
from core.auth import services
from core.testing import WebClient, make_user

PASSWORD = "first password 1"


def _signed_in(app, dispatcher, roles=()) -> WebClient:
    make_user(app, "clerk", list(roles), PASSWORD)
    client = WebClient(dispatcher)
    assert client.login("clerk", PASSWORD).status_code == 302
    return client


def _clerk(app):
    from core.db import session

    with app.app_context():
        user = services.find_user(session, "clerk")
        session.expunge(user)
        return user


def _refused_to_login(response) -> bool:
    if response.headers.get("HX-Redirect"):  # htmx reloads the whole page on the login form
        return response.status_code == 204 and response.headers["HX-Redirect"].startswith("/login")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_cookie_copied_before_logout_opens_nothing_afterwards(app, dispatcher):
    client = _signed_in(app, dispatcher, ["staff"])
    csrf = client.csrf_token("/dashboard")
    copy = WebClient(dispatcher)
    copy.set_cookie("kontor_session", client.get_cookie("kontor_session").value)
    assert copy.get("/profile").status_code == 200  # the copy works while the session lasts
    nonce = _clerk(app).session_nonce

    response = client.post("/logout", data={"csrf_token": csrf})
    assert _refused_to_login(response)
    assert _clerk(app).session_nonce != nonce

    assert _refused_to_login(copy.get("/profile"))
    assert _refused_to_login(copy.get("/dashboard"))
    fragment = copy.get("/parties/company-options?company_q=a", headers={"HX-Request": "true"})
    assert fragment.status_code == 204, fragment.status_code
    assert _refused_to_login(fragment)
    posted = copy.post("/profile", data={"full_name": "Taken over", "email": "thief@example.com", "locale": "en",
                                         "csrf_token": csrf}, headers={"X-CSRFToken": csrf})
    assert _refused_to_login(posted), posted.status_code
    user = _clerk(app)
    assert (user.full_name, user.email) == ("", "")


def test_logout_is_audited_and_signing_in_again_works(app, dispatcher):
    client = _signed_in(app, dispatcher)
    user_id = _clerk(app).id
    client.post("/logout", data={"csrf_token": client.csrf_token("/dashboard")})
    from core.db import session

    with app.app_context():
        actions = list(session.execute(select(AuditRecord.action).where(
            AuditRecord.table_name == "core_user", AuditRecord.record_id == str(user_id))).scalars())
    assert "logout" in actions
    assert client.login("clerk", PASSWORD).status_code == 302
    assert client.get("/profile").status_code == 200


def _change_email(client: WebClient, **extra):
    return client.post_form("/profile", {"full_name": "Clerk", "email": "new@example.com", "locale": "en", **extra})


def test_changing_the_email_without_the_current_password_is_refused(app, dispatcher):
    client = _signed_in(app, dispatcher)
    response = _change_email(client)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="e-current_password"' in page and "Enter your current password" in page
    user = _clerk(app)
    assert (user.email, user.full_name) == ("", "")  # nothing changed, not even the name


def test_changing_the_email_with_a_wrong_password_is_refused(app, dispatcher):
    client = _signed_in(app, dispatcher)
    response = _change_email(client, current_password="not my password")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="e-current_password"' in page and "The current password is wrong." in page
    assert _clerk(app).email == ""


def test_changing_the_email_with_the_current_password_saves_it(app, dispatcher):
    client = _signed_in(app, dispatcher)
    response = _change_email(client, current_password=PASSWORD)
    assert response.status_code == 302
    user = _clerk(app)
    assert (user.email, user.full_name) == ("new@example.com", "Clerk")
    assert client.get("/profile").status_code == 200  # an e-mail change keeps the session


def test_the_name_and_language_change_without_a_password(app, dispatcher):
    client = _signed_in(app, dispatcher)
    response = client.post_form("/profile", {"full_name": "Clerk Kent", "email": "", "locale": "de"})
    assert response.status_code == 302
    user = _clerk(app)
    assert (user.full_name, user.locale, user.email) == ("Clerk Kent", "de", "")


def test_the_profile_form_asks_for_the_current_password_beside_the_email(app, dispatcher):
    page = _signed_in(app, dispatcher).get("/profile").get_data(as_text=True)
    assert page.index('id="f-email"') < page.index('id="f-current_password"') < page.index('id="f-new_password"')
