"""A demo instance (``kontor demo``: every bundled module and its demo data) on each backend.

Built once per backend and test session, then shared by the test modules that only read from it
(the list-argument walk, the OpenAPI truth check): ``demo`` is a module-scoped fixture over both
backends that hands out a :class:`Demo` with a dispatcher, a signed-in page client and API tokens.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from core.db import dispose_engine
from core.wsgi import Dispatcher
from core.testing import WebClient

SECRET = "demo-instance-secret"
PASSWORD_LINE = re.compile(r"user: (\w+)\s+password: (\S+)")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_built: dict[str, tuple[dict, dict[str, str]]] = {}


@dataclass
class Demo:
    """The demo instance on one backend: its app, passwords, and clients made on demand."""

    backend: str
    settings: dict
    passwords: dict[str, str]
    dispatcher: Dispatcher = field(init=False)
    _tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.dispatcher = Dispatcher(self.settings)

    @property
    def app(self):
        return self.dispatcher.app

    def token(self, username: str) -> str:
        """An API token of ``username`` (made once)."""
        if username not in self._tokens:
            from core.auth.models import User
            from core.auth.tokens import create_token

            with self.app.app_context():
                from core.db import session

                user = session.execute(select(User).where(User.username == username)).scalar_one()
                _, self._tokens[username] = create_token(session, user, "tests")
                session.commit()
        return self._tokens[username]

    def api_get(self, path: str, username: str = "admin", **kwargs):
        """GET ``path`` with ``username``'s bearer token."""
        headers = {"Authorization": f"Bearer {self.token(username)}", **kwargs.pop("headers", {})}
        return WebClient(self.dispatcher).get(path, headers=headers, **kwargs)

    def page_client(self, username: str = "admin") -> WebClient:
        """A page client signed in as ``username``."""
        client = WebClient(self.dispatcher)
        assert client.login(username, self.passwords[username]).status_code == 302
        return client


def _run_demo(url: str, instance: Path) -> dict[str, str]:
    from core.cli import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KONTOR_DATABASE_URL", url)
        mp.setenv("KONTOR_INSTANCE", str(instance))
        mp.setenv("KONTOR_SECRET_KEY", SECRET)
        mp.delenv("KONTOR_PLUGINS", raising=False)
        result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    dispose_engine(url)
    return dict(PASSWORD_LINE.findall(result.output))


def _build(request, backend: str) -> tuple[dict, dict[str, str]]:
    if backend in _built:
        return _built[backend]
    # under pytest's own temporary folder, which pytest prunes: a folder per run would pile up in /tmp
    folder = request.getfixturevalue("tmp_path_factory").mktemp(f"kontor-demo-{backend}")
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'kontor.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"kontor_demo_instance{_WORKER}"
        admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = server.url(name)
    (folder / "instance").mkdir()
    passwords = _run_demo(url, folder / "instance")
    settings = {"DATABASE_URL": url, "INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": SECRET,
                "TESTING": True, "EXTRA_PLUGINS": (), "MARKETPLACE": ""}
    _built[backend] = settings, passwords
    return _built[backend]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(request) -> Demo:
    """The demo instance on each backend (read it only: test modules share it)."""
    settings, passwords = _build(request, request.param)
    yield Demo(request.param, settings, passwords)
    dispose_engine(settings["DATABASE_URL"])
