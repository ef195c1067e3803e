"""Fixtures shared by the whole suite: a real database on SQLite and PostgreSQL, apps and clients.

Every test that takes ``db_url`` (directly or through ``app``/``client``) runs twice: on a SQLite
file and on a PostgreSQL database the session starts. Each test gets a fresh database, copied from
a template that ``kontor init`` prepared once.
"""
from __future__ import annotations

import itertools
import os
import shutil
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from werkzeug.test import Client

ROOT = Path(__file__).resolve().parent.parent
# Argon2 at full strength costs ~60 ms a hash; the suite hashes thousands of times.
os.environ.setdefault("KONTOR_PASSWORD_HASH_PROFILE", "CHEAPEST")
sys.path.insert(0, str(ROOT / "tests" / "example_plugin"))
sys.path.insert(0, str(ROOT / "tests" / "fixture_plugins"))

from core.db import dispose_engine, get_engine, make_sessionmaker  # noqa: E402
from core.modules.lifecycle import initialise, install  # noqa: E402
from core.wsgi import Dispatcher  # noqa: E402
from tests import pg  # noqa: E402

_counter = itertools.count()
# Under pytest-xdist each worker process has its own databases; on a shared external server the
# worker's id keeps their names apart.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _initialise(url: str, modules: tuple[str, ...] = ()) -> None:
    engine = get_engine(url)
    initialise(engine, make_sessionmaker(engine), company_name="Test Company ApS", currency="DKK", country="DK")
    if modules:
        from core.modules.lifecycle import ModuleContext
        from core.plugins import discover

        ctx = ModuleContext(engine, make_sessionmaker(engine), discover(("kontor_hello.plugin",)),
                            Path(os.environ.get("TMPDIR", "/tmp")))
        install(ctx, list(modules))
    dispose_engine(url)


@pytest.fixture
def modules() -> tuple[str, ...]:
    """The modules installed in each test's database; a test folder's conftest overrides it."""
    return ()


@pytest.fixture(scope="session")
def _templates():
    """Template databases made so far, by (backend, modules)."""
    return {}


@pytest.fixture(scope="session")
def postgres_server():
    server = pg.start()
    yield server
    server.stop()


def _sqlite_template(made: dict, tmp_path_factory, modules: tuple[str, ...]) -> str:
    key = ("sqlite", modules)
    if key not in made:
        path = tmp_path_factory.mktemp("template") / "template.db"
        _initialise(f"sqlite:///{path}", modules)
        made[key] = str(path)
    return made[key]


def _postgres_template(made: dict, server, modules: tuple[str, ...]) -> str:
    key = ("postgresql", modules)
    if key not in made:
        name = f"kontor_template{_WORKER}" + "".join(f"_{m}" for m in modules)
        admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        _initialise(server.url(name), modules)
        made[key] = name
    return made[key]


@pytest.fixture(scope="session")
def sqlite_template(_templates, tmp_path_factory) -> str:
    """The SQLite template database with no module installed."""
    return _sqlite_template(_templates, tmp_path_factory, ())


@pytest.fixture(scope="session")
def postgres_template(_templates, postgres_server) -> str:
    """The name of the PostgreSQL template database with no module installed."""
    return _postgres_template(_templates, postgres_server, ())


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """The database backend of this run of the test."""
    return request.param


@pytest.fixture
def db_url(backend, modules, request, tmp_path, tmp_path_factory, _templates):
    """A fresh, initialised database on ``backend``, with ``modules`` installed."""
    modules = tuple(modules)
    if backend == "sqlite":
        path = tmp_path / "kontor.db"
        shutil.copy(_sqlite_template(_templates, tmp_path_factory, modules), path)
        url = f"sqlite:///{path}"
        yield url
        dispose_engine(url)
        return
    server = request.getfixturevalue("postgres_server")
    template = _postgres_template(_templates, server, modules)
    name = f"kontor_t{_WORKER}_{next(_counter)}"
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    url = server.url(name)
    yield url
    dispose_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def settings(db_url, tmp_path) -> dict:
    """App settings for a test: its own database, instance folder and secret."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    return {
        "DATABASE_URL": db_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "EXTRA_PLUGINS": ("kontor_hello.plugin",),
        "MARKETPLACE": "",
    }


@pytest.fixture
def dispatcher(settings) -> Dispatcher:
    """The WSGI dispatcher, as the servers run it (rebuilds the app when modules change)."""
    return Dispatcher(settings)


@pytest.fixture
def app(dispatcher):
    """The Flask app currently served by ``dispatcher``."""
    return dispatcher.app


@pytest.fixture
def db(app):
    """A session on the test database (inside an app context), closed after the test."""
    with app.app_context():
        from core.db import session

        yield session
        session.rollback()


@pytest.fixture
def client(dispatcher) -> "WebClient":
    """An anonymous HTTP client of the dispatcher (cookies kept)."""
    return WebClient(dispatcher)


class WebClient(Client):
    """A werkzeug client that knows Kontor's login form and CSRF token."""

    def csrf_token(self, path: str = "/login") -> str:
        import re

        page = self.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str, password: str):
        token = self.csrf_token("/login")
        return self.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def post_form(self, path: str, data: dict, **kwargs):
        """POST a form with the CSRF token, as a browser would."""
        return self.post(path, data={**data, "csrf_token": self.csrf_token("/dashboard")}, **kwargs)

    def htmx(self, method: str, path: str, **kwargs):
        """A request as htmx sends it (HX-Request and the CSRF header)."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf_token("/dashboard"), **kwargs.pop("headers", {})}
        return self.open(path, method=method, headers=headers, **kwargs)


def make_user(app, username: str, roles: list[str], password: str = "correct horse battery") -> tuple:
    """Create a user with ``roles`` directly through the service; returns (user id, password)."""
    from core.auth.services import create_user
    from core.db import session

    with app.app_context():
        user, password = create_user(session, username, password=password, roles=roles)
        session.commit()
        return user.id, password


@pytest.fixture
def admin(app) -> tuple[str, str]:
    """An administrator's (username, password)."""
    make_user(app, "admin", ["admin"], "admin password 1")
    return "admin", "admin password 1"


@pytest.fixture
def admin_client(client, admin) -> WebClient:
    """A client signed in as the administrator."""
    response = client.login(*admin)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def api_token(app, admin) -> str:
    """An API token of the administrator."""
    from sqlalchemy import select

    from core.auth.models import User
    from core.auth.tokens import create_token
    from core.db import session

    with app.app_context():
        user = session.execute(select(User).where(User.username == admin[0])).scalar_one()
        _, secret = create_token(session, user, "tests")
        session.commit()
        return secret


@pytest.fixture
def api(client, api_token):
    """A client that sends the administrator's bearer token."""

    class ApiClient:
        def __init__(self, token):
            self.headers = {"Authorization": f"Bearer {token}"}

        def __getattr__(self, method):
            def call(path, **kwargs):
                headers = {**self.headers, **kwargs.pop("headers", {})}
                return client.open(path, method=method.upper(), headers=headers, **kwargs)

            return call

    return ApiClient(api_token)


@pytest.fixture
def kontor(settings, monkeypatch):
    """Run ``kontor …`` against the test database, as an operator would; returns click's Result."""
    from click.testing import CliRunner

    from core.cli import main

    monkeypatch.setenv("KONTOR_DATABASE_URL", settings["DATABASE_URL"])
    monkeypatch.setenv("KONTOR_INSTANCE", settings["INSTANCE_PATH"])
    monkeypatch.setenv("KONTOR_SECRET_KEY", settings["SECRET_KEY"])
    monkeypatch.setenv("KONTOR_PLUGINS", ",".join(settings["EXTRA_PLUGINS"]))

    def run(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run
