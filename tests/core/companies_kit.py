"""What the companies tests share: a browser that starts each request afresh, and the group's companies.

The ``db`` fixture keeps an app context open for the whole test, and every request the test's
clients make runs in it, so ``flask.g`` (the signed-in user, the CSRF token, the permission cache)
would outlive a request and leak from one client to the next. :class:`Browser` clears it before
each request, as a real server does (the test's database session, kept there too, stays).
"""
from __future__ import annotations

import pytest

from core.company import services
from core.testing import factories
from core.testing.clients import ApiClient, WebClient


def forget_request_state() -> None:
    """Drop what the previous request left in ``flask.g`` (except the test's database session)."""
    from flask import g, has_app_context

    if has_app_context():
        for key in [k for k in vars(g) if k != "kontor_session"]:
            delattr(g, key)


class Browser(WebClient):
    """A page client whose every request starts with a fresh ``flask.g``."""

    def open(self, *args, **kwargs):
        forget_request_state()
        return super().open(*args, **kwargs)


def signed_in(dispatcher, username: str, password: str = factories.PASSWORD) -> Browser:
    """A browser signed in as ``username``."""
    browser = Browser(dispatcher)
    response = browser.login(username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def api_of(app, dispatcher, user) -> ApiClient:
    """An API client with a new token of ``user`` (committed)."""
    from core.auth.tokens import create_token
    from core.db import session

    _, secret = create_token(session, user, "tests")
    session.commit()
    return ApiClient(Browser(dispatcher), secret)


@pytest.fixture
def first(db) -> int:
    """The id of the company ``kontor init`` made (the default company)."""
    return services.default_company(db).id


@pytest.fixture
def admin_browser(dispatcher, admin) -> Browser:
    """The administrator, signed in."""
    return signed_in(dispatcher, *admin)
