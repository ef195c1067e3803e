"""The CRM module's manifest and its contributions to Kontor.

The module is made of areas (leads, pipeline, activities, service, campaigns). Each area package
exposes the same small set of functions, and this file hands the core's hooks to each in turn.
"""
from pathlib import Path

import click

from flask import Blueprint

from core import ApiBlueprint, Manifest, hookimpl

from plugins.crm import activities, campaigns, hookspecs, leads, menus, permissions, pipeline, service

manifest = Manifest(
    name="crm",
    title="CRM",
    version="1.0.0",
    summary="Leads, pipeline, activities, service tickets and campaigns, with the customer's whole picture.",
    requires_core=">=0.1,<1",
    author="Kontor",
    license="AGPL-3.0-or-later",
    category="Sales",
)

#: The areas, in the order their contributions appear.
AREAS = (leads, pipeline, activities, service, campaigns)


@hookimpl
def register_hookspecs():
    return hookspecs


@hookimpl
def register_blueprints():
    bp = Blueprint("crm", __name__, url_prefix="/crm", template_folder="templates", static_folder="static",
                   static_url_path="/static")
    for area in AREAS:
        area.register_routes(bp)
    return [bp]


@hookimpl
def register_api():
    api = ApiBlueprint("crm", __name__)
    for area in AREAS:
        area.register_api(api)
    return [api]


@hookimpl
def register_permissions():
    return permissions.PERMISSIONS


@hookimpl
def register_roles():
    return permissions.ROLES


@hookimpl
def register_menu_items():
    return menus.MENU_ITEMS


@hookimpl
def register_settings():
    return [setting for area in AREAS for setting in area.settings()]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def register_commands():
    @click.group("crm", help="The CRM: leads, pipeline, tickets and campaigns.")
    def crm_group():
        pass

    for area in AREAS:
        area.register_commands(crm_group)
    return [crm_group]


@hookimpl
def load_default_data(session):
    for area in AREAS:
        area.load_default_data(session)


@hookimpl
def load_demo_data(session, progress):
    for area in AREAS:
        area.load_demo_data(session, progress)


@hookimpl
def dashboard_widgets(user):
    return [widget for area in AREAS for widget in area.dashboard_widgets(user)]


@hookimpl
def record_panels(kind, record, user):
    return [panel for area in AREAS for panel in area.record_panels(kind, record, user)]


@hookimpl
def party_merging(source, target, session):
    for area in AREAS:
        area.party_merging(source, target, session)
