"""A bundled module made of areas: one object hands each of the core's hooks to every area in turn.

An area is a package (``plugins/crm/leads``, ``plugins/accounting/ledger`` …) whose ``__init__``
defines the same small set of functions: ``register_routes(bp)``, ``register_api(api)``,
``settings()``, ``register_commands(group)``, ``load_default_data(session)``,
``load_demo_data(session, progress)``, ``dashboard_widgets(user)``,
``record_panels(kind, record, user)`` and ``party_merging(source, target, session)``. The module
shares one blueprint, one API blueprint and one command group between its areas.
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

import click
from flask import Blueprint

from core import ApiBlueprint, hookimpl


class AreaHooks:
    """The core's hooks of module ``name``, each handed to every area of ``areas`` in order.

    ``plugin.py`` binds the methods to module-level names (``register_blueprints =
    hooks.register_blueprints``), where pluggy finds them.
    """

    def __init__(self, name: str, import_name: str, areas: tuple[ModuleType, ...], *, hookspecs: ModuleType,
                 permissions: ModuleType, menus: ModuleType, command_help: str):
        self.name, self.import_name, self.areas = name, import_name, areas
        self.hookspecs, self.permissions, self.menus = hookspecs, permissions, menus
        self.command_help = command_help
        self.folder = Path(__import__(import_name, fromlist=["_"]).__file__).parent

    @hookimpl
    def register_hookspecs(self):
        return self.hookspecs

    @hookimpl
    def register_blueprints(self):
        bp = Blueprint(self.name, self.import_name, url_prefix=f"/{self.name}", template_folder="templates",
                       static_folder="static", static_url_path="/static")
        for area in self.areas:
            area.register_routes(bp)
        return [bp]

    @hookimpl
    def register_api(self):
        api = ApiBlueprint(self.name, self.import_name)
        for area in self.areas:
            area.register_api(api)
        return [api]

    @hookimpl
    def register_permissions(self):
        return self.permissions.PERMISSIONS

    @hookimpl
    def register_roles(self):
        return self.permissions.ROLES

    @hookimpl
    def register_menu_items(self):
        return self.menus.MENU_ITEMS

    @hookimpl
    def register_settings(self):
        return [setting for area in self.areas for setting in area.settings()]

    @hookimpl
    def register_migrations(self):
        return self.folder / "migrations"

    @hookimpl
    def register_commands(self):
        group = click.Group(self.name, help=self.command_help)
        for area in self.areas:
            area.register_commands(group)
        return [group]

    @hookimpl
    def load_default_data(self, session):
        for area in self.areas:
            area.load_default_data(session)

    @hookimpl
    def load_demo_data(self, session, progress):
        for area in self.areas:
            area.load_demo_data(session, progress)

    @hookimpl
    def dashboard_widgets(self, user):
        return [widget for area in self.areas for widget in area.dashboard_widgets(user)]

    @hookimpl
    def record_panels(self, kind, record, user):
        return [panel for area in self.areas for panel in area.record_panels(kind, record, user)]

    @hookimpl
    def party_merging(self, source, target, session):
        for area in self.areas:
            area.party_merging(source, target, session)

    def implementations(self) -> dict:
        """Every hook above by name, for ``plugin.py`` to bind at module level."""
        return {name: getattr(self, name) for name in dir(type(self))
                if getattr(getattr(type(self), name), "kontor_impl", None) is not None}
