"""A test database with the fixture plugin ``everyhook`` installed (it implements every hook)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import inspect as sa_inspect

from core.testing import WebClient, make_user
from core.wsgi import Dispatcher

PASSWORD = "every hook password"


class Site:
    """A test database with ``everyhook`` installed, its dispatcher and helpers."""

    def __init__(self, settings: dict):
        self.settings = settings
        self.dispatcher = Dispatcher(settings)

    @property
    def app(self):
        return self.dispatcher.app

    @property
    def kontor(self):
        return self.app.extensions["kontor"]

    @contextmanager
    def session(self):
        with self.app.app_context():
            from core.db import session

            yield session
            session.rollback()

    def client(self, username: str | None = None, roles: tuple[str, ...] = ("admin",)) -> WebClient:
        client = WebClient(self.dispatcher)
        if username:
            make_user(self.app, username, list(roles), PASSWORD)
            assert client.login(username, PASSWORD).status_code == 302
        return client

    def things(self) -> list[str]:
        from everyhook.services import all_things

        with self.session() as db:
            return [t.name for t in all_things(db)]

    def add_thing(self, name: str, party_id: int | None = None) -> int:
        from everyhook.services import add_thing

        with self.session() as db:
            thing_id = add_thing(db, name, party_id).id
            db.commit()
            return thing_id

    def party(self, name: str) -> int:
        from core.parties.services import create_party

        with self.session() as db:
            party_id = create_party(db, {"name": name, "kind": "company"}).id
            db.commit()
            return party_id

    def tables(self) -> set[str]:
        with self.kontor.engine.connect() as conn:
            return set(sa_inspect(conn).get_table_names())
