"""The pytest plugin of Kontor's test kit: a real database on SQLite and PostgreSQL, apps and clients.

Every test that takes ``db_url`` (directly or through ``settings``, ``app``, ``db``, ``client`` …)
runs twice: on a SQLite file and on a PostgreSQL database of a server the session starts (or the
one ``KONTOR_TEST_POSTGRES_URL`` names). Each test gets a fresh database, copied from a template
that ``kontor init`` prepared once per backend and set of installed modules.

Two fixtures are meant to be overridden in a conftest:

- ``modules``: the modules installed in each test's database (``("crm",)``), default none;
- ``kontor_plugins`` (session scope): plugin modules to load that are not pip-installed with a
  ``kontor.plugins`` entry point (``("kontor_hello.plugin",)``), default those named by the
  ``KONTOR_PLUGINS`` environment variable.
"""
from __future__ import annotations

import contextvars
import itertools
import os
import shutil
from pathlib import Path
from typing import Callable

import pytest
from jinja2 import BytecodeCache

from core.testing import factories
from core.testing.clients import ApiClient, WebClient
from core.testing.s3 import s3_server, s3_storage_url  # noqa: F401  (fixtures: a real S3 server)

# Under pytest-xdist each worker has its own databases; the process id keeps apart two sessions
# sharing one external server (a plugin's own suite run from within another test session).
_TAG = f"{os.environ.get('PYTEST_XDIST_WORKER', '')}_{os.getpid()}"
_counter = itertools.count()


def _initialise(url: str, modules: tuple[str, ...], plugins: tuple[str, ...]) -> None:
    """Run ``kontor init`` on the database at ``url`` and install ``modules``."""
    from core.db import dispose_engine, get_engine, make_sessionmaker
    from core.modules.lifecycle import ModuleContext, initialise, install
    from core.plugins import discover

    engine = get_engine(url)
    initialise(engine, make_sessionmaker(engine), company_name="Test Company ApS", currency="DKK", country="DK")
    if modules:
        ctx = ModuleContext(engine, make_sessionmaker(engine), discover(plugins),
                            Path(os.environ.get("TMPDIR", "/tmp")))
        install(ctx, list(modules))
    dispose_engine(url)


_admin_engines: dict = {}


def _admin_engine(server):
    """The session's engine on ``server``'s maintenance database (one, so each test pays no connect)."""
    from sqlalchemy import create_engine

    url = server.url("postgres")
    if url not in _admin_engines:
        _admin_engines[url] = create_engine(url, isolation_level="AUTOCOMMIT")
    return _admin_engines[url]


class _CompiledTemplates(BytecodeCache):
    """A Jinja bytecode cache shared by every app a test session builds.

    Each test builds its own app, and each app's Jinja environment would compile every template it
    renders again; they share the compiled code instead. An entry is keyed by the template's file and
    the environment's extensions (which change what a template compiles to), and Jinja checks the
    source's checksum on every load, so an edited template is compiled afresh.
    """

    def __init__(self):
        self.code: dict[tuple, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        data = self.code.get(self._key(bucket))
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket) -> None:
        self.code[self._key(bucket)] = bucket.bytecode_to_string()

    @staticmethod
    def _key(bucket) -> tuple:
        return bucket.key, tuple(sorted(bucket.environment.extensions))


@pytest.fixture(scope="session", autouse=True)
def _shared_template_code():
    """Every Flask app of the session compiles a template once (see :class:`_CompiledTemplates`)."""
    from flask import Flask

    before = Flask.jinja_options
    Flask.jinja_options = {**before, "bytecode_cache": _CompiledTemplates()}
    yield
    Flask.jinja_options = before


@pytest.fixture(scope="session")
def kontor_plugins() -> tuple[str, ...]:
    """Plugin modules loaded beside the pip-installed ones; a conftest overrides it."""
    return tuple(name.strip() for name in os.environ.get("KONTOR_PLUGINS", "").split(",") if name.strip())


@pytest.fixture
def modules() -> tuple[str, ...]:
    """The modules installed in each test's database; a test folder's conftest overrides it."""
    return ()


class _Templates(dict):
    """Template databases made so far, by (backend, modules): a file path or a database name."""

    def sqlite(self, tmp_path_factory, modules: tuple[str, ...], plugins: tuple[str, ...]) -> str:
        key = ("sqlite", modules)
        if key not in self:
            path = tmp_path_factory.mktemp("template") / "template.db"
            _initialise(f"sqlite:///{path}", modules, plugins)
            self[key] = str(path)
        return self[key]

    def postgres(self, server, modules: tuple[str, ...], plugins: tuple[str, ...]) -> str:
        from sqlalchemy import text

        key = ("postgresql", modules)
        if key not in self:
            name = f"kontor_template{_TAG}" + "".join(f"_{m}" for m in modules)
            admin = _admin_engine(server)
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                conn.execute(text(f"CREATE DATABASE {name}"))
            _initialise(server.url(name), modules, plugins)
            self[key] = name
            self.server = server
        return self[key]

    def drop_postgres(self) -> None:
        """Drop the PostgreSQL templates (on an external server; a throwaway one goes whole)."""
        from sqlalchemy import text

        names = [name for (backend, _), name in self.items() if backend == "postgresql"]
        if not names:
            return
        admin = _admin_engine(self.server)
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        _admin_engines.pop(self.server.url("postgres"), admin).dispose()


@pytest.fixture(scope="session")
def _templates():
    """Template databases made so far, by (backend, modules)."""
    made = _Templates()
    yield made
    if os.environ.get("KONTOR_TEST_POSTGRES_URL"):
        made.drop_postgres()


@pytest.fixture(scope="session")
def postgres_server():
    """The session's PostgreSQL server (see :mod:`core.testing.pg`)."""
    from core.testing import pg

    server = pg.start()
    yield server
    engine = _admin_engines.pop(server.url("postgres"), None)
    if engine is not None:
        engine.dispose()
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(_templates, tmp_path_factory, kontor_plugins) -> str:
    """The SQLite template database with no module installed."""
    return _templates.sqlite(tmp_path_factory, (), kontor_plugins)


@pytest.fixture(scope="session")
def postgres_template(_templates, postgres_server, kontor_plugins) -> str:
    """The name of the PostgreSQL template database with no module installed."""
    return _templates.postgres(postgres_server, (), kontor_plugins)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """The database backend of this run of the test."""
    return request.param


@pytest.fixture
def db_url(backend, modules, request, tmp_path, tmp_path_factory, _templates, kontor_plugins):
    """A fresh, initialised database on ``backend``, with ``modules`` installed."""
    from sqlalchemy import text

    from core.db import dispose_engine

    modules = tuple(modules)
    if backend == "sqlite":
        path = tmp_path / "kontor.db"
        shutil.copy(_templates.sqlite(tmp_path_factory, modules, kontor_plugins), path)
        url = f"sqlite:///{path}"
        yield url
        dispose_engine(url)
        return
    server = request.getfixturevalue("postgres_server")
    template = _templates.postgres(server, modules, kontor_plugins)
    name = f"kontor_t{_TAG}_{next(_counter)}"
    admin = _admin_engine(server)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    url = server.url(name)
    yield url
    dispose_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def settings(db_url, tmp_path, kontor_plugins) -> dict:
    """App settings for a test: its own database, instance folder and secret."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    return {
        "DATABASE_URL": db_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "EXTRA_PLUGINS": tuple(kontor_plugins),
        "MARKETPLACE": "",
        "QUEUE_URL": "memory://",  # jobs run right after the commit that asked for them
        "JOB_RETRY_SECONDS": 0,
    }


@pytest.fixture
def dispatcher(settings):
    """The WSGI dispatcher, as the servers run it (rebuilds the app when modules change)."""
    from core.wsgi import Dispatcher

    made = Dispatcher(settings)
    yield made
    made.close()  # else dropping the PostgreSQL database waits for its connection to be killed


@pytest.fixture
def app(dispatcher):
    """The Flask app currently served by ``dispatcher``."""
    return dispatcher.app


@pytest.fixture
def db(app):
    """A session on the test database (inside an app context), rolled back after the test."""
    with app.app_context():
        from core.db import session

        yield session
        session.rollback()


@pytest.fixture
def client(dispatcher) -> WebClient:
    """An anonymous HTTP client of the dispatcher (cookies kept)."""
    return WebClient(dispatcher)


@pytest.fixture
def admin(app) -> tuple[str, str]:
    """An administrator's (username, password)."""
    factories.make_user(app, "admin", ["admin"], "admin password 1")
    return "admin", "admin password 1"


@pytest.fixture
def admin_client(client, admin) -> WebClient:
    """A client signed in as the administrator."""
    response = client.login(*admin)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _token_of(app, username: str) -> str:
    from sqlalchemy import select

    from core.auth.models import User
    from core.auth.tokens import create_token
    from core.db import session

    with app.app_context():
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        _, secret = create_token(session, user, "tests")
        session.commit()
        return secret


@pytest.fixture
def api_token(app, admin) -> str:
    """An API token of the administrator."""
    return _token_of(app, admin[0])


@pytest.fixture
def api(client, api_token) -> ApiClient:
    """A client that sends the administrator's bearer token."""
    return ApiClient(client, api_token)


def _user_holding(app, roles, permissions) -> tuple[str, str]:
    from core.db import session

    with app.app_context():
        user = factories.user(session, roles=roles, permissions=permissions)
        session.commit()
        return user.username, factories.PASSWORD


@pytest.fixture
def client_with(dispatcher, app) -> Callable[..., WebClient]:
    """Make a client signed in as a new user holding ``roles`` and ``permissions``.

    ``client_with(permissions=["crm.lead.read"])`` or ``client_with(roles=["staff"])``; each call
    makes another user and another client, so one test can compare what two users see. The
    permissions must be registered (their module installed, see ``modules``).
    """

    def make(*, roles=(), permissions=()) -> WebClient:
        signed_in = WebClient(dispatcher)
        response = signed_in.login(*_user_holding(app, roles, permissions))
        assert response.status_code == 302, response.get_data(as_text=True)
        return signed_in

    return make


@pytest.fixture
def api_with(dispatcher, app) -> Callable[..., ApiClient]:
    """Make an API client with the bearer token of a new user holding ``roles`` and ``permissions``."""

    def make(*, roles=(), permissions=()) -> ApiClient:
        username, _ = _user_holding(app, roles, permissions)
        return ApiClient(WebClient(dispatcher), _token_of(app, username))

    return make


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
        # In its own copy of the context: the actor a command sets (the system, or --as USER) ends with it,
        # as it does when the command's process exits, instead of acting on in the tests that follow.
        return contextvars.copy_context().run(CliRunner().invoke, main, list(args), catch_exceptions=False)

    return run
