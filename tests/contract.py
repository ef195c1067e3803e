"""The contract every Kontor plugin gets for free: structural checks any plugin must pass.

Like Tryton's ``ModuleTestCase``, a plugin's own test suite reuses it in one of two ways::

    from tests.contract import PluginContract

    class TestMyPluginContract(PluginContract):
        plugin_name = "myplugin"                 # the manifest's name
        plugin_module = "myplugin.plugin"        # only when it is not installed as an entry point

or, from any test that has the ``settings`` fixture of ``tests/conftest.py``::

    from tests.contract import check_plugin

    def test_contract(settings):
        check_plugin("myplugin", settings, module="myplugin.plugin")

The checks: the manifest validates; its ``depends`` resolve; the migration branch has exactly one
head; its routes, blueprints, permissions and roles stay under its own name and clash with no
other plugin's; it has the module shape (area packages without forwarding functions, nothing
imported from the core's submodules, blueprints defined once at module level); every schema in
``schemas.py`` round-trips a minimal object; and, once the plugin is
installed into a fresh database, every menu item leads to a real endpoint with a registered
permission, every route declares a registered permission (or ``@public``/``@signed_in``), every
template compiles (its areas' too), each of its areas is registered as ``<name>.<area>``, and
purging removes its tables and its ``alembic_version`` row again.
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest
from alembic.util.exc import CommandError
from flask import Flask
from marshmallow import Schema, fields, validate
from sqlalchemy import inspect as sa_inspect

from core.app import create_app, get_discovery
from core.contrib import MenuSection
from core.db import get_engine
from core.modules import lifecycle, migrate
from core.modules.registry import dependency_order
from core.plugins import PluginInfo, single_manager
from core.security import PUBLIC, SIGNED_IN

OPEN = {PUBLIC, SIGNED_IN}
#: The menu sections of the core: Home, Contacts, Administration.
CORE_SECTIONS = {"main", "contacts", "admin"}


# -- Installing and purging a module in a test database --


def install(settings: dict, *names: str) -> Flask:
    """Install ``names`` into the database of ``settings``; returns an app built afterwards."""
    return _lifecycle_act(settings, "install", names)


def purge(settings: dict, *names: str) -> Flask:
    """Purge ``names`` from the database of ``settings``; returns an app built afterwards."""
    return _lifecycle_act(settings, "purge", names)


def _lifecycle_act(settings: dict, act: str, names: tuple[str, ...]) -> Flask:
    app = create_app(settings, refresh_plugins=True)
    getattr(lifecycle, act)(lifecycle.context_from_app(app), list(names))
    return create_app(settings)


# -- Minimal objects for schemas --


def _choice(field: fields.Field) -> Any:
    for validator in getattr(field, "validators", []):
        if isinstance(validator, validate.OneOf):
            return next(iter(validator.choices))
    return None


def example_value(field: fields.Field) -> Any:
    """A small valid input value for ``field`` (serialised form, as a client would send it)."""
    choice = _choice(field)
    if choice is not None:
        return choice
    samples = [
        (fields.Email, "someone@example.com"), (fields.Url, "https://example.com/"),
        (fields.UUID, "0b5c2f3e-3f1a-4c1e-9a55-3c1f8d0f9a10"), (fields.Boolean, True), (fields.Integer, 1),
        (fields.Decimal, "1.50"), (fields.Float, 1.5), (fields.Number, 1),
        (fields.AwareDateTime, "2026-01-02T03:04:05+00:00"), (fields.DateTime, "2026-01-02T03:04:05+00:00"),
        (fields.Date, "2026-01-02"), (fields.Time, "03:04:05"), (fields.Dict, {}), (fields.String, "Example"),
    ]
    if isinstance(field, fields.Nested):
        nested = field.schema
        value = example_object(nested)
        return [value] if field.many else value
    if isinstance(field, fields.List):
        return [example_value(field.inner)]
    for kind, value in samples:
        if isinstance(field, kind):
            return value
    return "Example"


def example_object(schema: Schema) -> dict[str, Any]:
    """A minimal input for ``schema``: its ``EXAMPLE`` attribute, or a value for each required field."""
    given = getattr(schema, "EXAMPLE", None)
    if given is not None:
        return dict(given)
    return {
        field.data_key or name: example_value(field)
        for name, field in schema.load_fields.items()
        if field.required
    }


def schemas_of(info: PluginInfo) -> list[type[Schema]]:
    """The marshmallow schemas defined in the plugin's ``schemas.py`` and its areas' (none when it has none)."""
    found: list[type[Schema]] = []
    for package in info.packages:
        try:
            module = importlib.import_module(f"{package}.schemas")
        except ModuleNotFoundError as exc:
            if exc.name == f"{package}.schemas":
                continue
            raise
        found += [
            obj for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, Schema) and obj is not Schema and obj.__module__ == module.__name__
        ]
    return found


def round_trip(schema_class: type[Schema]) -> None:
    """Load a minimal object with ``schema_class``, dump it, load the dump: the dumps agree."""
    schema = schema_class()
    loaded = schema.load(example_object(schema))
    dumped = schema.dump(loaded)
    again = schema.load({k: v for k, v in dumped.items() if k in _loadable_keys(schema)})
    assert schema.dump(again) == dumped, f"{schema_class.__name__} does not round-trip"


def _loadable_keys(schema: Schema) -> set[str]:
    return {field.data_key or name for name, field in schema.load_fields.items()}


# -- The checks --


class Contract:
    """The checks for plugin ``name`` against the database and settings of a test."""

    def __init__(self, name: str, settings: dict, module: str | None = None):
        self.name = name
        self.settings = dict(settings)
        if module and module not in self.settings["EXTRA_PLUGINS"]:
            self.settings["EXTRA_PLUGINS"] = (*self.settings["EXTRA_PLUGINS"], module)
        discovery = get_discovery(tuple(self.settings["EXTRA_PLUGINS"]), refresh=True)
        assert name not in discovery.quarantined, discovery.quarantined.get(name)
        assert name in discovery.plugins, f"plugin {name!r} is not found (quarantined: {list(discovery.quarantined)})"
        self.plugins = discovery.plugins
        self.info = discovery.plugins[name]
        self.pm = single_manager(self.info)

    def contributed(self, hook_name: str) -> list:
        """What the plugin alone returns from registration hook ``hook_name``."""
        from core.plugins import flatten

        return flatten(getattr(self.pm.hook, hook_name)())

    @property
    def migrations(self) -> Path | None:
        found = self.contributed("register_migrations")
        return Path(found[0]) if found else None

    def check_manifest(self) -> None:
        self.info.manifest.validate()
        assert self.info.manifest.core_compatible(), f"{self.name} does not accept this core's version"

    def check_depends(self) -> None:
        order = dependency_order([self.name], self.plugins)
        assert order[-1] == self.name
        for requirement in self.info.manifest.requirements():
            assert requirement.name in order

    def check_single_head(self) -> None:
        if self.migrations is None:
            return
        try:
            heads = migrate.branch_heads(self.name, [self.migrations])
        except CommandError as exc:  # alembic refuses to name "the" head of a forked branch
            raise AssertionError(f"branch {self.name} has more than one head; merge them: {exc}") from None
        assert len(heads) == 1, f"branch {self.name} has more than one head: {heads}; merge them"
        assert all(head.startswith(f"{self.name}_") for head in heads), f"revision ids must start with {self.name}_"

    def check_namespace(self) -> None:
        """Routes, blueprints, permissions and roles under the plugin's own name, clashing with no other
        plugin found here nor with the core (see :func:`core.plugins.namespace_problems`)."""
        from core.plugins import claims_of, core_claims, namespace_problems

        others = [claims_of(info) for name, info in sorted(self.plugins.items()) if name != self.name]
        problems = namespace_problems(claims_of(self.info), [core_claims(), *others])
        assert not problems, "\n".join(problems)

    def check_shape(self) -> None:
        """The one documented module shape (docs/plugins.md, "A module with areas"): an area's
        ``__init__.py`` is a docstring (no forwarding functions), nothing binds hooks by hand
        (``globals().update``, ``AreaHooks``) nor reaches the core through ``corelinks`` or a core
        submodule (``from core.db import …``: the facade ``core`` is the API; migrations may use
        ``core.ddl``), and the page and API blueprints are module-level objects that every app
        shares (the hooks return the same blueprint each time, its views top-level functions)."""
        import ast

        problems = []
        root = self.info.package_path
        if self.info.package:
            for area in self.info.manifest.areas:
                tree = ast.parse((root / area / "__init__.py").read_text(encoding="utf-8"))
                if [type(node).__name__ for node in tree.body] not in (["Expr"], []):
                    problems.append(f"{area}/__init__.py holds more than a docstring (forwarding to the area's plugin.py?)")
            paths = sorted(root.rglob("*.py"))
        else:
            paths = [root / f"{self.info.module.__name__}.py"]
        for path in paths:
            if "migrations" in path.relative_to(root).parts:
                continue
            text = path.read_text(encoding="utf-8")
            where = path.relative_to(root)
            for pattern in ("globals().update", "AreaHooks", "corelinks"):
                if pattern in text:
                    problems.append(f"{where} uses {pattern}")
            for node in ast.walk(ast.parse(text)):
                names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else \
                    [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                problems += [f"{where} imports {name} (import from the facade, core)"
                             for name in names if name.startswith("core.")]
        for hook_name in ("register_blueprints", "register_api"):
            first, again = self.contributed(hook_name), self.contributed(hook_name)
            problems += [f"{hook_name} makes blueprint {bp.name} anew on each call: define it once, at module level"
                         for bp, other in zip(first, again) if bp is not other]
        assert not problems, "\n".join(problems)

    def check_schemas(self) -> None:
        for schema_class in schemas_of(self.info):
            round_trip(schema_class)

    def tables(self) -> set[str]:
        engine = get_engine(self.settings["DATABASE_URL"])
        with engine.connect() as conn:
            return set(sa_inspect(conn).get_table_names())

    def versions(self) -> set[str]:
        engine = get_engine(self.settings["DATABASE_URL"])
        with engine.connect() as conn:
            return migrate.current_revisions(conn)

    def check_installed_app(self, app: Flask) -> None:
        """Menus, routes, permissions and templates of the plugin in ``app``, where it is installed."""
        kontor = app.extensions["kontor"]
        assert self.name in kontor.active_names, f"{self.name} is not active after install: {kontor.quarantined}"
        self._check_parts(kontor)
        self._check_menus(app, kontor)
        self._check_routes(app, kontor)
        self._check_templates(app)

    def _check_parts(self, kontor) -> None:
        """The module's ``plugin.py`` and each of its areas' are registered, under ``<name>.<area>``."""
        assert len(self.info.parts) == 1 + len(self.info.manifest.areas), "an area's plugin.py is not loaded"
        for part_name, part in zip(self.info.part_names(), self.info.parts):
            assert kontor.pm.get_plugin(part_name) is part, f"{part_name} is not registered in the app"

    def _check_menus(self, app: Flask, kontor) -> None:
        from core.auth.models import PermissionRecord

        problems = []
        with app.app_context():
            from core.db import session

            for item in self.contributed("register_menu_items"):
                if isinstance(item, MenuSection):
                    if item.key in CORE_SECTIONS:
                        problems.append(f"menu section {item.key} is the core's; the module declares its own")
                    continue
                if item.section not in kontor.menu_sections:
                    problems.append(f"menu item {item.label!s} goes into section {item.section!r}, which no "
                                    "module declares (return a MenuSection with the menu items)")
                if item.endpoint not in app.view_functions:
                    problems.append(f"menu item {item.label!s} leads to the unknown endpoint {item.endpoint}")
                if item.permission in OPEN:
                    continue
                if item.permission not in kontor.permissions or session.get(PermissionRecord, item.permission) is None:
                    problems.append(f"menu item {item.label!s}: {item.permission} is not registered")
        assert not problems, "\n".join(problems)

    def _check_routes(self, app: Flask, kontor) -> None:
        names = {bp.name for bp in self.contributed("register_blueprints") + self.contributed("register_api")}
        problems = []
        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".", 1)[0] not in names or rule.endpoint.endswith(".static"):
                continue
            permission = getattr(app.view_functions[rule.endpoint], "kontor_permission", None)
            if permission is None:
                problems.append(f"{rule.rule} ({rule.endpoint}) declares no permission")
            elif permission not in OPEN and permission not in kontor.permissions:
                problems.append(f"{rule.rule} needs {permission}, which no active module registers")
        assert not problems, "\n".join(problems)

    def _check_templates(self, app: Flask) -> None:
        root = self.info.package_path
        folders = [root / "templates", *(root / area / "templates" for area in self.info.manifest.areas)]
        problems = []
        with app.app_context():
            for folder in folders:
                for path in sorted(folder.rglob("*.html")) if folder.is_dir() else ():
                    name = path.relative_to(folder).as_posix()
                    try:
                        app.jinja_env.get_template(name)
                    except Exception as exc:  # a syntax error, an unknown filter or test
                        problems.append(f"template {name}: {type(exc).__name__}: {exc}")
        assert not problems, "\n".join(problems)

    def check_install_and_purge(self) -> None:
        """Install (tables appear, checks pass), purge (tables and version rows are gone)."""
        tables_before, versions_before = self.tables(), self.versions()
        app = install(self.settings, self.name)
        self.check_installed_app(app)
        if self.migrations is not None:
            added = self.tables() - tables_before
            assert added, f"installing {self.name} created no table"
            assert all(t.startswith(f"{self.name}_") for t in added), f"tables must start with {self.name}_: {added}"
            assert self.versions() - versions_before, f"no alembic_version row for {self.name}"
        purge(self.settings, self.name)
        assert self.tables() == tables_before, f"purge left {self.tables() - tables_before}"
        assert self.versions() == versions_before, "purge left the branch's alembic_version row"

    def check_all(self) -> None:
        """Every check, the database ones last."""
        self.check_manifest()
        self.check_depends()
        self.check_single_head()
        self.check_namespace()
        self.check_shape()
        self.check_schemas()
        self.check_install_and_purge()


def check_plugin(name: str, settings: dict, module: str | None = None) -> None:
    """Run the whole contract for plugin ``name`` on the database of ``settings``.

    ``module`` is the plugin's module path when it is not installed as a ``kontor.plugins`` entry
    point (a plugin under development).
    """
    Contract(name, settings, module).check_all()


class PluginContract:
    """Subclass as ``Test<Name>Contract`` with ``plugin_name`` (and ``plugin_module``) set."""

    plugin_name: str = ""
    plugin_module: str | None = None

    @pytest.fixture
    def contract(self, settings) -> Contract:
        return Contract(self.plugin_name, settings, self.plugin_module)

    @pytest.fixture
    def static_contract(self) -> Contract:
        extra = (self.plugin_module,) if self.plugin_module else ()
        return Contract(self.plugin_name, {"EXTRA_PLUGINS": extra}, None)

    def test_manifest_validates(self, static_contract):
        static_contract.check_manifest()

    def test_depends_resolve(self, static_contract):
        static_contract.check_depends()

    def test_migration_branch_has_one_head(self, static_contract):
        static_contract.check_single_head()

    def test_stays_in_its_namespace(self, static_contract):
        static_contract.check_namespace()

    def test_has_the_module_shape(self, static_contract):
        static_contract.check_shape()

    def test_schemas_round_trip(self, static_contract):
        static_contract.check_schemas()

    def test_installs_and_purges_cleanly(self, contract):
        contract.check_install_and_purge()


__all__ = ["Contract", "PluginContract", "check_plugin", "example_object", "install", "purge", "round_trip"]
