"""What keeps the test kit fast without sharing state between tests: cheap password hashes, compiled
templates shared by the apps of a session, and a test's PostgreSQL database dropped without waiting."""
from __future__ import annotations

from argon2 import extract_parameters, profiles
from flask import Flask
from sqlalchemy import make_url, select, text

from core.auth.models import User
from core.testing import factories


def test_users_are_hashed_with_the_cheapest_argon2_profile(db):
    made = factories.user(db)
    assert extract_parameters(made.password_hash) == profiles.CHEAPEST


def test_a_signed_in_users_password_still_has_to_match(client, app):
    factories.make_user(app, "clerk", [], "the right password")
    assert client.login("clerk", "the wrong password").status_code != 302
    assert client.login("clerk", "the right password").status_code == 302
    with app.app_context():
        from core.db import session

        stored = session.execute(select(User.password_hash).where(User.username == "clerk")).scalar_one()
    assert extract_parameters(stored) == profiles.CHEAPEST


def test_apps_share_compiled_templates_but_not_their_environment(dispatcher, settings):
    from core.wsgi import Dispatcher

    shared = Flask.jinja_options["bytecode_cache"]
    assert dispatcher.app.jinja_env.bytecode_cache is shared
    dispatcher.app.test_client().get("/login")
    assert any(key[0] for key in shared.code)  # the login page's templates, compiled once
    other = Dispatcher(settings)
    try:
        assert other.app.jinja_env is not dispatcher.app.jinja_env
        assert other.app.jinja_env.bytecode_cache is shared
        assert "csrf-token" in other.app.test_client().get("/login").get_data(as_text=True)
    finally:
        other.close()


def test_closing_the_dispatcher_leaves_no_connection_on_the_database(dispatcher, db_url, backend, request):
    assert dispatcher.read_revision() >= 0
    dispatcher.close()
    assert dispatcher.read_revision() >= 0, "a closed dispatcher reconnects when used again"
    if backend != "postgresql":
        return
    dispatcher.close()
    from core.testing.plugin import _admin_engine

    name = make_url(db_url).database
    with _admin_engine(request.getfixturevalue("postgres_server")).connect() as conn:
        # without FORCE, PostgreSQL refuses to drop a database someone is still connected to
        conn.execute(text(f"DROP DATABASE {name}"))
        assert conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :name"),
                            {"name": name}).scalar_one() == 0
