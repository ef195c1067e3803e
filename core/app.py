"""The app factory: one Flask app for the modules enabled when it is built."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pluggy
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import core.config as kontor_config
from core.api.base import init_api
from core.api.input import screen_input
from core.auth.session import init_login
from core.contrib import JinjaExtras, JobKind, MenuItem, MenuSection, Permission, RecordRule, Schedule, Setting
from core.db import close_request_session, get_engine, make_sessionmaker
from core.errors import KontorError
from core.i18n import init_i18n
from core.invariants import InvariantCheck, install_invariant_checks
from core.jobs.queue import enqueue
from core.jobs.runner import execute
from core.modules.registry import InstalledModule, active_plugins, read_state
from core.plugins import (BUILTIN_PLUGINS, Discovery, PluginInfo, Quarantined, build_manager, cached_claims_of,
                          check_namespace, core_claims, discover, flatten, hooks, module_of_part, unregister)
from core.routing import RecordIdConverter
from core.security import PUBLIC, add_security_headers, enforce_declared_permission
from core.web.shell import init_shell
from core.web.transaction import answer_refusal

__all__ = ["Kontor", "RecordIdConverter", "create_app", "get_discovery", "hooks"]

log = logging.getLogger("kontor")


_discovery_cache: dict[tuple, Discovery] = {}


@dataclass
class Kontor:
    """What an app was built from: the database, the modules, and what they contributed."""

    engine: Engine
    sessionmaker: sessionmaker[Session]
    discovery: Discovery
    installed: dict[str, InstalledModule]
    revision: int
    active: list[PluginInfo]
    pm: pluggy.PluginManager
    permissions: dict[str, Permission] = field(default_factory=dict)
    menu_items: list[MenuItem] = field(default_factory=list)
    menu_sections: dict[str, MenuSection] = field(default_factory=dict)
    settings: list[Setting] = field(default_factory=list)
    record_rules: list[RecordRule] = field(default_factory=list)
    invariant_checks: list[InvariantCheck] = field(default_factory=list)
    job_kinds: dict[str, JobKind] = field(default_factory=dict)
    schedules: list[Schedule] = field(default_factory=list)

    @property
    def initialised(self) -> bool:
        return self.revision >= 0

    @property
    def quarantined(self):
        return self.discovery.quarantined

    @property
    def active_names(self) -> list[str]:
        return [p.name for p in self.active]


def get_discovery(extra_plugins: tuple[str, ...], refresh: bool = False) -> Discovery:
    """Plugins found on this process's path (scanned once, again when ``refresh``)."""
    key = tuple(extra_plugins)
    if refresh or key not in _discovery_cache:
        _discovery_cache[key] = discover(extra_plugins)
    return _discovery_cache[key]


def create_app(overrides: dict | None = None, *, refresh_plugins: bool = False) -> Flask:
    """Build the app for the modules the database says are enabled.

    ``overrides`` replace settings read from the environment (tests pass a database URL and an
    instance folder). The module set is read once, here; :mod:`core.wsgi` rebuilds the app when it
    changes.
    """
    settings = kontor_config.from_environment(overrides)
    app = Flask("core", root_path=str(Path(__file__).parent), instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    _web_settings(app, settings)
    app.url_map.converters["int"] = RecordIdConverter  # before any rule is added

    engine = get_engine(app.config["DATABASE_URL"])
    discovery = get_discovery(app.config["EXTRA_PLUGINS"], refresh_plugins)
    # quarantine is per build: a plugin failing to register in this build stays out of it only
    discovery = Discovery(plugins=dict(discovery.plugins), quarantined=dict(discovery.quarantined))
    revision, installed = read_state(engine)
    active = active_plugins(discovery.plugins, installed, discovery.quarantined)
    active = _within_namespaces(active, discovery.quarantined)
    pm = build_manager(active, discovery.quarantined)
    active = [p for p in active if pm.is_registered(p.module)]
    kontor = Kontor(
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        discovery=discovery,
        installed=installed,
        revision=revision,
        active=active,
        pm=pm,
    )
    install_invariant_checks(kontor.sessionmaker, lambda: kontor.invariant_checks)
    app.extensions["kontor"] = kontor
    app.extensions["kontor_enqueue"], app.extensions["kontor_execute"] = enqueue, execute
    app.teardown_appcontext(close_request_session)

    _init_extensions(app, kontor)
    _register_contributions(app, kontor)
    return app


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name} must be 1 or 0 (true or false), not {value!r}")


def _env_count(name: str) -> int:
    value = os.environ.get(name, "").strip() or "0"
    if not value.isdigit():
        raise ValueError(f"{name} must be the number of proxies in front of Kontor (0 for none), not {value!r}")
    return int(value)


def _web_settings(app: Flask, settings: dict) -> None:
    """How the site is reached: over HTTPS or not, and through how many trusted proxies.

    ``HTTPS`` (``KONTOR_HTTPS``): the site is served over HTTPS only; the session cookie is then
    ``__Host-kontor_session``, sent only over HTTPS. It is a setting, not read from each request,
    because a cookie's name cannot change from one request to the next. Off by default, for the
    embedded ``http://127.0.0.1`` setup.

    ``PROXY_FIX`` (``KONTOR_PROXY_FIX``): the number of reverse proxies in front of Kontor whose
    ``X-Forwarded-For``/``-Proto``/``-Host``/``-Port`` headers are trusted (0, the default: none, as
    anyone may send them). Behind a TLS-terminating load balancer it makes ``request.is_secure``
    true, which sends HSTS, and gives the login throttle the client's own address.
    """
    https = bool(settings["HTTPS"] if "HTTPS" in settings else _env_flag("KONTOR_HTTPS"))
    proxies = int(settings["PROXY_FIX"] if "PROXY_FIX" in settings else _env_count("KONTOR_PROXY_FIX"))
    derived = {
        "HTTPS": https,
        "PROXY_FIX": proxies,
        "SESSION_COOKIE_NAME": "__Host-kontor_session" if https else "kontor_session",
        "SESSION_COOKIE_SECURE": https,
        "SESSION_COOKIE_PATH": "/",  # a __Host- cookie must have Path=/ and no Domain
        "SESSION_COOKIE_DOMAIN": None,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
    }
    app.config.update({key: value for key, value in derived.items() if key not in settings})
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)


def _init_extensions(app: Flask, kontor: Kontor) -> None:
    HTMX(app)
    csrf = CSRFProtect(app)
    app.extensions["kontor_csrf"] = csrf
    login_manager = LoginManager(app)
    init_login(app, login_manager)
    init_i18n(app, kontor)
    app.before_request(enforce_declared_permission)
    app.after_request(add_security_headers)
    init_api(app, csrf)
    app.before_request(screen_input)
    init_shell(app)
    app.register_error_handler(KontorError, answer_refusal)  # a refusal no view handled: never a 500


def _within_namespaces(active: list[PluginInfo], quarantined: dict) -> list[PluginInfo]:
    """``active`` less the modules registering outside their namespace or what an earlier one owns.

    Such a module is quarantined with the reason, naming the other module; so is a module that
    depends on one quarantined. ``active`` is in dependency order: the first claimant keeps a name.
    """
    taken = [core_claims()]
    kept: list[PluginInfo] = []
    for info in active:
        missing = [r.name for r in info.manifest.requirements() if r.name not in {k.name for k in kept}]
        try:
            if missing:
                raise RuntimeError(f"it needs {', '.join(missing)}, which is quarantined")
            claims = cached_claims_of(info)
            check_namespace(claims, taken)
        except Exception as exc:
            log.error("plugin %s quarantined: %s", info.name, exc)
            quarantined[info.name] = Quarantined(info.name, info.source, f"{type(exc).__name__}: {exc}")
            continue
        taken.append(claims)
        kept.append(info)
    return kept


def _isolated(kontor: Kontor, hook_name: str) -> list:
    """Call a registration hook plugin by plugin, quarantining any plugin whose hook raises (in any
    of its areas: the whole module is left out)."""
    hook = getattr(kontor.pm.hook, hook_name)
    results = []
    for impl in hook.get_hookimpls():
        if not kontor.pm.is_registered(impl.plugin):
            continue  # another area of its module failed just now
        try:
            results.append(impl.function())
        except Exception as exc:
            part = kontor.pm.get_name(impl.plugin)
            if part in BUILTIN_PLUGINS:
                raise  # the core's own parts must never fail quietly
            name = module_of_part(part)
            where = "" if part == name else f" in area {part.partition('.')[2]}"
            log.exception("plugin %s failed in %s", part, hook_name)
            kontor.quarantined[name] = _quarantine(name, f"{hook_name} failed{where}: {type(exc).__name__}: {exc}")
            for info in kontor.active:
                if info.name == name:
                    unregister(kontor.pm, info)
            kontor.active = [p for p in kontor.active if p.name != name]
    return flatten(results)


def _quarantine(name: str, error: str) -> Quarantined:
    return Quarantined(name=name, source="registration", error=error)


def _register_contributions(app: Flask, kontor: Kontor) -> None:
    # Collect every contribution first: a plugin that fails while contributing is left out whole.
    hooks = ("register_permissions", "register_blueprints", "register_api", "register_menu_items",
             "register_settings", "register_jinja", "register_commands", "register_invariant_checks",
             "register_record_rules", "register_job_kinds", "register_schedules")
    collected = {name: _isolated(kontor, name) for name in hooks}
    if any(q.source == "registration" for q in kontor.quarantined.values()):
        collected = {name: flatten(impl.function() for impl in getattr(kontor.pm.hook, name).get_hookimpls())
                     for name in hooks}  # in registration order, the core's parts first, as above

    kontor.permissions = {}
    for permission in collected["register_permissions"]:  # the owner's comes first; a grant adds none
        kontor.permissions.setdefault(permission.name, permission)
    for blueprint in collected["register_blueprints"]:
        app.register_blueprint(blueprint)
    csrf = app.extensions["kontor_csrf"]
    for endpoint, view in list(app.view_functions.items()):
        if getattr(view, "kontor_cross_site", False):
            if getattr(view, "kontor_permission", None) != PUBLIC:
                raise RuntimeError(f"{endpoint} is cross_site but not public")
            csrf.exempt(view)
    for blueprint in collected["register_api"]:
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    entries = collected["register_menu_items"]
    kontor.menu_items = sorted((m for m in entries if isinstance(m, MenuItem)),
                               key=lambda m: (m.section, m.order, m.label))
    kontor.menu_sections = {}
    for section in sorted((s for s in entries if isinstance(s, MenuSection)), key=lambda s: s.order):  # first claim wins
        kontor.menu_sections.setdefault(section.key, section)
    kontor.settings = collected["register_settings"]
    kontor.record_rules = [r for r in collected["register_record_rules"] if isinstance(r, RecordRule)]
    kontor.invariant_checks = [c for c in collected["register_invariant_checks"] if isinstance(c, InvariantCheck)]
    kontor.job_kinds = {k.name: k for k in collected["register_job_kinds"] if isinstance(k, JobKind)}
    kontor.schedules = [s for s in collected["register_schedules"]
                        if isinstance(s, Schedule) and s.kind in kontor.job_kinds]
    for command in collected["register_commands"]:
        app.cli.add_command(command)
    for extras in collected["register_jinja"]:
        if isinstance(extras, JinjaExtras):
            app.jinja_env.filters.update(extras.filters)
            app.jinja_env.globals.update(extras.globals)
            app.jinja_env.tests.update(extras.tests)
