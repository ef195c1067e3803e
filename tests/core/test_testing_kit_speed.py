"""What keeps the test kit fast without sharing state between tests: cheap password hashes."""
from __future__ import annotations

from argon2 import extract_parameters, profiles
from sqlalchemy import select

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
