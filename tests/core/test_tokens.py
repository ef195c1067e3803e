"""Personal API tokens: created on the profile page (shown once), used as bearer tokens, revoked."""
import re

from sqlalchemy import select

from core.auth.models import ApiToken, User
from core.testing import WebClient, make_user


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_profile_creates_a_token_shown_once_and_stored_hashed(app, dispatcher, admin_client):
    response = admin_client.post_form("/profile/tokens", {"name": "invoice import"})
    assert response.status_code == 201
    secret = re.search(r'<code id="new-token">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    page = admin_client.get("/profile").get_data(as_text=True)
    assert "invoice import" in page and secret not in page
    from core.db import session

    with app.app_context():
        stored = session.execute(select(ApiToken).where(ApiToken.name == "invoice import")).scalar_one()
        assert secret not in (stored.token_hash, stored.prefix)
    answer = WebClient(dispatcher).get("/api/v1/users", headers=_bearer(secret))
    assert answer.status_code == 200 and answer.json["items"]


def test_a_revoked_token_stops_working(app, dispatcher, admin_client, api_token):
    anonymous = WebClient(dispatcher)
    assert anonymous.get("/api/v1/users", headers=_bearer(api_token)).status_code == 200
    page = admin_client.get("/profile").get_data(as_text=True)
    token_id = re.search(r'action="/profile/tokens/(\d+)/revoke" data-confirm="Revoke', page).group(1)
    assert admin_client.post_form(f"/profile/tokens/{token_id}/revoke", {}).status_code == 302
    response = anonymous.get("/api/v1/users", headers=_bearer(api_token))
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


def test_wrong_or_missing_tokens_get_401(dispatcher, api_token):
    anonymous = WebClient(dispatcher)
    for headers in ({}, _bearer(api_token + "x"), _bearer("kt_nothing"), {"Authorization": f"Basic {api_token}"}):
        response = anonymous.get("/api/v1/users", headers=headers)
        assert response.status_code == 401, headers
        assert response.json["status"] == 401


def test_nobody_revokes_another_users_token_from_their_profile(app, dispatcher, api_token):
    make_user(app, "clerk", [], "clerk password 1")
    clerk = WebClient(dispatcher)
    clerk.login("clerk", "clerk password 1")
    from core.db import session

    with app.app_context():
        token_id = session.execute(select(ApiToken.id)).scalar_one()
    assert clerk.post_form(f"/profile/tokens/{token_id}/revoke", {}).status_code == 404
    assert WebClient(dispatcher).get("/api/v1/users", headers=_bearer(api_token)).status_code == 200


def test_a_token_without_the_permission_gets_403(app, dispatcher):
    user_id, _ = make_user(app, "clerk", [])
    from core.auth.tokens import create_token
    from core.db import session

    with app.app_context():
        _, secret = create_token(session, session.get(User, user_id))
        session.commit()
    response = WebClient(dispatcher).get("/api/v1/users", headers=_bearer(secret))
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_tokens_use_is_recorded(api, app, api_token):
    from sqlalchemy import select

    from core.auth.models import ApiToken
    from core.db import session

    assert api.get("/api/v1/users").status_code == 200
    with app.app_context():
        used = session.execute(select(ApiToken.last_used_at).where(ApiToken.name == "tests")).scalar_one()
    assert used is not None


def test_the_session_cookie_does_not_open_the_api(admin_client):
    response = admin_client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_token_works_from_a_client_that_has_a_session_cookie(client, api_token):
    client.get("/login")  # an anonymous visit leaves a session cookie with a CSRF token
    response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {api_token}"})
    assert response.status_code == 200
