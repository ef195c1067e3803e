"""Deny by default, checked on every route the running app has.

1. Every endpoint's view declares a permission, and that permission is registered.
2. The matrix: on every rule and method, an anonymous request is sent to the login page (UI) or
   answered 401 problem+json (API), and a signed-in user holding every permission but the route's
   own gets 403. Only ``@public`` routes are left out.
3. A user holding only the route's permission is let through on GET pages.
4. A user with a valid API token but no role at all gets 403 on every rule and method of the
   JSON API, whatever the route declares, but for the few endpoints listed as open to everyone.

The cases are generated from the URL map of an app with every discovered module installed (the
example plugin among them when it is on the path), so new modules' routes are walked too.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, delete, insert, select, text

from core.app import create_app
from core.auth import services
from core.auth.models import PermissionRecord, RoleGrant
from core.api.base import API_PREFIX
from core.auth.tokens import create_token
from core.db import dispose_engine, get_engine, make_sessionmaker
from core.modules.lifecycle import initialise
from core.security import PUBLIC, SIGNED_IN
from core.wsgi import Dispatcher
from core.testing import WebClient

EXTRA_PLUGINS = ("kontor_hello.plugin",)
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
DUMMY = 1


@dataclass(frozen=True)
class Route:
    """One rule of the URL map with one of its methods."""

    endpoint: str
    rule: str
    method: str
    permission: str | None = None  # as declared when the cases were collected

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api/")


def _settings(url: str, instance: Path) -> dict:
    return {"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "walk-secret", "TESTING": True,
            "EXTRA_PLUGINS": EXTRA_PLUGINS, "MARKETPLACE": ""}


def _install_every_module(settings: dict) -> None:
    """Install every discovered module through ``kontor modules install`` (when that command exists)."""
    app = create_app(settings)
    names = sorted(app.extensions["kontor"].discovery.plugins)
    if not names or "modules" not in app.cli.commands:
        return
    from core.cli import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KONTOR_DATABASE_URL", settings["DATABASE_URL"])
        mp.setenv("KONTOR_INSTANCE", settings["INSTANCE_PATH"])
        mp.setenv("KONTOR_SECRET_KEY", settings["SECRET_KEY"])
        mp.setenv("KONTOR_PLUGINS", ",".join(EXTRA_PLUGINS))
        result = CliRunner().invoke(main, ["modules", "install", *names])
        if result.exit_code != 0:  # one broken module must not hide the others' routes
            for name in names:
                CliRunner().invoke(main, ["modules", "install", name])


def _declared(app, endpoint: str) -> str | None:
    if endpoint == "static" or endpoint.endswith(".static"):
        return PUBLIC
    return getattr(app.view_functions.get(endpoint), "kontor_permission", None)


def _routes(app) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            routes.append(Route(rule.endpoint, rule.rule, method, _declared(app, rule.endpoint)))
    return sorted(routes, key=lambda r: (r.rule, r.method))


_collected: list[Route] | None = None


def collected_routes() -> list[Route]:
    """The routes of an app with every module installed, on a scratch SQLite database (built once)."""
    global _collected
    if _collected is None:
        folder = Path(tempfile.mkdtemp(prefix="kontor-walk-"))
        url = f"sqlite:///{folder / 'kontor.db'}"
        try:
            engine = get_engine(url)
            initialise(engine, make_sessionmaker(engine))
            settings = _settings(url, folder / "instance")
            _install_every_module(settings)
            _collected = _routes(create_app(settings))
        finally:
            dispose_engine(url)
            shutil.rmtree(folder, ignore_errors=True)
    return _collected


#: Which collected routes each test walks (the test checks the permission again on the running app).
CASES = {
    "test_anonymous_is_sent_to_login_or_refused": lambda r: r.permission != PUBLIC,
    "test_a_user_without_the_permission_gets_403": lambda r: r.permission not in (PUBLIC, SIGNED_IN),
    "test_a_user_with_the_permission_gets_the_page": lambda r: r.method == "GET" and r.permission != PUBLIC,
    "test_a_user_without_any_role_gets_403_on_the_api": lambda r: r.rule.startswith(API_PREFIX + "/")
    or r.rule == API_PREFIX,
}

#: The JSON API's endpoints a signed-in user without any role may use: the OpenAPI document (public)
#: and a user's own notification settings (every kind, with the user's choice). Nothing else, whatever it declares.
OPEN_API_ENDPOINTS = {"api_core.openapi", "api_notifications.get_settings"}
#: The JSON API's endpoints guarded by the permission of the record they name (attachments): a user
#: without it gets 403; a roleless user naming no record, or one that does not exist, gets a 422 or
#: 404 problem, never data.
RECORD_API_ENDPOINTS = {"api_attachments.list_attachments", "api_attachments.upload", "api_attachments.get_attachment",
                        "api_attachments.content", "api_attachments.delete",
                        "api_approvals.ask", "api_approvals.approve_many"}
#: The JSON API's endpoints of a user's own records, which a user without any role may call: they
#: answer only about that user's own (a roleless user has none: an empty list, or 404; a replacement
#: sent without a body, a 400 or 422 problem).
OWN_API_ENDPOINTS = {"api_jobs.list_jobs", "api_jobs.get_job", "api_jobs.cancel_job", "api_jobs.retry_job",
                     "api_notifications.list_notifications", "api_notifications.count", "api_notifications.mark_read",
                     "api_notifications.mark_all_read", "api_notifications.put_settings",
                     "api_approvals.list_awaiting", "api_approvals.get_request", "api_approvals.approve",
                     "api_approvals.reject", "api_approvals.delegate", "api_approvals.recall"}


def pytest_generate_tests(metafunc):
    if "route" in metafunc.fixturenames:
        routes = [r for r in collected_routes() if CASES[metafunc.function.__name__](r)]
        metafunc.parametrize("route", routes, ids=[r.id for r in routes])


class Walk:
    """An app on one backend with every module installed, and the clients that walk it."""

    def __init__(self, settings: dict):
        _install_every_module(settings)
        self.dispatcher = Dispatcher(settings)
        self.app = self.dispatcher.app
        self.kontor = self.app.extensions["kontor"]
        self.rules = {(r.rule, r.endpoint): r for r in self.app.url_map.iter_rules()}
        with self.app.app_context():
            from core.db import session

            self.role = services.create_role(session, "walker")
            user, password = services.create_user(session, "walker", roles=["walker"])
            _, self.token = create_token(session, user, "walk")
            roleless, _password = services.create_user(session, "roleless")
            _, self.roleless_token = create_token(session, roleless, "walk")
            session.commit()
            self.role_id = self.role.id
            self.registered = set(session.execute(select(PermissionRecord.name)).scalars())
        self.anonymous = WebClient(self.dispatcher)
        self.anonymous_csrf = self.anonymous.csrf_token("/login")
        self.user = WebClient(self.dispatcher)
        assert self.user.login("walker", password).status_code == 302
        self.user_csrf = self.user.csrf_token("/dashboard")

    def permission(self, route: Route) -> str | None:
        """The permission the route's view declares in the running app."""
        return _declared(self.app, route.endpoint)

    def path(self, route: Route) -> str:
        rule = self.rules.get((route.rule, route.endpoint))
        assert rule is not None, f"{route.id} is no longer in the URL map"
        return rule.build({arg: DUMMY for arg in rule.arguments}, append_unknown=False)[1]

    def grant_only(self, permissions) -> None:
        """Make the walker's role hold exactly ``permissions`` (those registered in the database)."""
        rows = [{"role_id": self.role_id, "permission": p} for p in sorted(set(permissions) & self.registered)]
        with self.kontor.engine.begin() as conn:
            conn.execute(delete(RoleGrant).where(RoleGrant.role_id == self.role_id))
            if rows:
                conn.execute(insert(RoleGrant), rows)

    def request(self, client: WebClient, route: Route, *, csrf: str | None = None, headers=None):
        headers = dict(headers or {})
        if csrf and route.method != "GET":
            headers["X-CSRFToken"] = csrf
        return client.open(self.path(route), method=route.method, headers=headers)

    def as_anonymous(self, route: Route):
        return self.request(self.anonymous, route, csrf=self.anonymous_csrf)

    def as_roleless(self, route: Route):
        """The request sent with the API token of a user who holds no role."""
        return self.request(WebClient(self.dispatcher), route,
                            headers={"Authorization": f"Bearer {self.roleless_token}"})

    def as_walker(self, route: Route):
        if route.is_api:
            return self.request(WebClient(self.dispatcher), route, headers={"Authorization": f"Bearer {self.token}"})
        return self.request(self.user, route, csrf=self.user_csrf)


def _fresh_database(request, backend: str, tmp: Path) -> tuple[str, callable]:
    if backend == "sqlite":
        path = tmp / "kontor.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        return url, lambda: dispose_engine(url)
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = "kontor_walk"
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    url = server.url(name)

    def drop():
        dispose_engine(url)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return url, drop


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def walk(request, tmp_path_factory) -> Walk:
    """The walked app on each backend, built once per module run."""
    tmp = tmp_path_factory.mktemp(f"walk-{request.param}")
    url, drop = _fresh_database(request, request.param, tmp)
    (tmp / "instance").mkdir()
    try:
        yield Walk(_settings(url, tmp / "instance"))
    finally:
        drop()


def test_the_walk_covers_every_route(walk):
    assert set(collected_routes()) == set(_routes(walk.app))  # same rules, same declared permissions


def test_every_endpoint_declares_a_registered_permission(walk):
    missing = sorted({r.endpoint for r in _routes(walk.app) if walk.permission(r) is None})
    assert not missing, f"views without @require/@public/@signed_in: {missing}"
    unknown = sorted({f"{r.endpoint}: {walk.permission(r)}" for r in _routes(walk.app)
                      if walk.permission(r) not in (PUBLIC, SIGNED_IN) and walk.permission(r) not in walk.kontor.permissions})
    assert not unknown, f"views requiring a permission no module registers: {unknown}"


def test_anonymous_is_sent_to_login_or_refused(walk, route):
    assert walk.permission(route) == route.permission
    response = walk.as_anonymous(route)
    if route.is_api:
        assert response.status_code == 401, route.id
        assert response.headers["Content-Type"] == "application/problem+json"
    else:
        assert response.status_code == 302, (route.id, response.status_code)
        assert response.headers["Location"].startswith("/login"), route.id


def test_a_user_without_the_permission_gets_403(walk, route):
    permission = walk.permission(route)
    assert permission == route.permission
    walk.grant_only(set(walk.kontor.permissions) - {permission})
    response = walk.as_walker(route)
    assert response.status_code == 403, (route.id, response.status_code)
    if route.is_api:
        assert response.headers["Content-Type"] == "application/problem+json"


def test_a_user_with_the_permission_gets_the_page(walk, route):
    permission = walk.permission(route)
    assert permission == route.permission
    walk.grant_only({permission})
    response = walk.as_walker(route)
    assert response.status_code != 403, route.id
    assert response.status_code < 500, (route.id, response.status_code)


def test_the_no_role_walk_covers_the_whole_api():
    api = {r.endpoint for r in collected_routes() if CASES["test_a_user_without_any_role_gets_403_on_the_api"](r)}
    assert OPEN_API_ENDPOINTS <= api
    modules = {endpoint.split(".", 1)[0] for endpoint in api}
    assert {"api_company", "api_users", "api_accounting", "api_crm", "api_hello"} <= modules, modules


def test_a_user_without_any_role_gets_403_on_the_api(walk, route):
    assert walk.permission(route) == route.permission
    response = walk.as_roleless(route)
    if route.endpoint in OPEN_API_ENDPOINTS:
        assert response.status_code < 400, (route.id, response.status_code)
        return
    if route.endpoint in RECORD_API_ENDPOINTS:
        assert response.status_code in (403, 404, 422), (route.id, response.status_code)
        assert response.headers["Content-Type"] == "application/problem+json"
        return
    if route.endpoint in OWN_API_ENDPOINTS:
        if route.method == "PUT" and response.status_code in (400, 422):  # sent without a body: refused as such
            assert response.headers["Content-Type"] == "application/problem+json"
            return
        assert response.status_code in (200, 404), (route.id, response.status_code)
        assert "items" not in response.get_json() or response.get_json()["items"] == [], route.id
        return
    assert response.status_code == 403, (route.id, response.status_code)
    assert response.headers["Content-Type"] == "application/problem+json"
