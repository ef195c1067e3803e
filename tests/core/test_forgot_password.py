"""Forgot password, end to end through a real SMTP server: the request, the mail in the user's
language, the link that works once, the expired link, and the same answer for an unknown name."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditRecord
from core.auth import password_reset
from core.auth.models import User
from core.mail.models import MailMessage
from core.mail.testing import configure_mail, smtp_server
from core.testing import factories

OLD, NEW = "old password 123", "brand new password 456"
LINK = re.compile(r"https://kontor\.example(/login/reset/[^\s]+)")


@pytest.fixture
def inbox(db):
    with smtp_server() as (received, port):
        configure_mail(db, port, site_url="https://kontor.example")
        factories.user(db, "mette", password=OLD, email="Mette@Fjord.example", full_name="Mette Nielsen",
                       locale="da")
        db.commit()
        yield received


def forget_request_cache():
    """Drop what the test's app context (shared with the requests, see the ``db`` fixture) keeps of the
    last request's session: each client has its own CSRF token and user."""
    from flask import g, has_app_context

    if has_app_context():
        for key in ("csrf_token", "_login_user", "kontor_permission_cache"):
            g.pop(key, None)


def ask(client, identifier: str):
    forget_request_cache()
    return client.post("/login/forgot", data={"identifier": identifier, "csrf_token": client.csrf_token("/login/forgot")})


def link_in(inbox) -> str:
    [message] = inbox.messages
    return LINK.search(message.get_content()).group(1)


def choose(client, path: str, password: str = NEW, confirm: str | None = None):
    forget_request_cache()
    return client.post(path, data={"password": password, "confirm": password if confirm is None else confirm,
                                   "csrf_token": client.csrf_token(path)})


def test_the_login_page_links_the_form(client, inbox):
    assert 'href="/login/forgot"' in client.get("/login").get_data(as_text=True)


def test_a_link_by_mail_sets_a_new_password_once_and_ends_the_sessions(db, client, inbox):
    signed_in = type(client)(client.application)
    assert signed_in.login("mette", OLD).status_code == 302
    forget_request_cache()

    answer = ask(client, "mette@fjord.EXAMPLE")
    assert answer.status_code == 200
    assert 'data-testid="reset-sent"' in answer.get_data(as_text=True)
    message = inbox.for_address("Mette@Fjord.example")
    assert message["Subject"] == "Nulstil din adgangskode til Kontor"  # in Mette's language (da)
    assert "Mette Nielsen" in message.get_content() and "60" in message.get_content()
    assert message["To"] == "Mette Nielsen <Mette@Fjord.example>"
    path = link_in(inbox)

    assert 'name="password"' in client.get(path).get_data(as_text=True)
    refused = choose(client, path, NEW, "something else entirely")
    assert refused.status_code == 422 and "The two passwords differ." in refused.get_data(as_text=True)
    assert choose(client, path, "short").status_code == 422  # the same rule as everywhere
    done = choose(client, path)
    assert done.status_code == 303 and done.headers["Location"].endswith("/login")

    forget_request_cache()
    assert client.login("mette", NEW).status_code == 302
    forget_request_cache()
    assert signed_in.get("/profile").status_code == 302  # the old session ended
    again = choose(type(client)(client.application), path, "yet another password 789")
    assert again.status_code == 400 and 'data-testid="reset-refused"' in again.get_data(as_text=True)
    db.expire_all()
    actions = db.execute(select(AuditRecord.action).where(AuditRecord.action.like("password.%"))).scalars().all()
    assert actions == ["password.reset_request", "password.reset_by_link"]


def test_an_unknown_name_gets_the_same_answer_and_no_mail(db, client, inbox):
    known = ask(client, "mette")
    unknown = ask(type(client)(client.application), "nobody@nowhere.example")
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'value="[^"]*"|content="[^"]*"|"X-CSRFToken": "[^"]*"', "", r.get_data(as_text=True))  # noqa: E731 (tokens)
    assert strip(known) == strip(unknown)
    assert len(inbox.messages) == 1
    assert db.execute(select(MailMessage)).scalars().all()[0].to_address == "Mette@Fjord.example"


def test_an_expired_or_forged_link_is_refused(app, db, client, inbox):
    user = db.execute(select(User).where(User.username == "mette")).scalar_one()
    token = password_reset.make_token(app.config["SECRET_KEY"], user)
    with pytest.raises(password_reset.AuthError):
        password_reset.user_of_token(db, app.config["SECRET_KEY"], token, max_age=timedelta(seconds=-1))
    assert password_reset.user_of_token(db, app.config["SECRET_KEY"], token).id == user.id
    forged = password_reset.make_token("another secret", user)
    response = client.get(f"/login/reset/{forged}")
    assert response.status_code == 400 and 'data-testid="reset-refused"' in response.get_data(as_text=True)
    assert choose(client, f"/login/reset/{forged}").status_code == 400
    db.expire_all()
    assert db.get(User, user.id).password_hash == user.password_hash


def test_requests_are_throttled_whatever_they_name(client, inbox):
    answers = [ask(client, f"someone{n}@nowhere.example").status_code for n in range(6)]
    assert answers == [200] * 5 + [429]
    assert ask(client, "mette").status_code == 429
    assert inbox.messages == []
