"""Hello's manifest and its contributions to Kontor."""
from pathlib import Path

from core import Manifest, Panel, Widget, hookimpl, lazy_gettext as _l, session as db

from kontor_hello import api, cli, menus, permissions, routes, services

manifest = Manifest(
    name="hello",
    title="Hello",
    version="1.0.0",
    summary="Greetings in six languages: an example of a Kontor module.",
    requires_core=">=0.1,<1",
    author="Kontor Example Authors",
    license="MIT",
    category="Examples",
)


@hookimpl
def register_blueprints():
    return [routes.bp]


@hookimpl
def register_api():
    return [api.api]


@hookimpl
def register_permissions():
    return permissions.PERMISSIONS


@hookimpl
def register_menu_items():
    return menus.MENU_ITEMS


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def register_commands():
    return [cli.hello_group]


@hookimpl
def load_default_data(session):
    services.load_default_greetings(session)


@hookimpl
def dashboard_widgets(user):
    context = {"greeting": services.greeting_for(db, user.locale or "en"), "count": services.count_greetings(db)}
    return [Widget(_l("Greeting"), permissions.READ, template="hello/_widget.html", context=context)]


@hookimpl
def record_panels(kind, record, user):
    if kind != "core.party":
        return []
    context = {"greeting": services.greeting_for(db, user.locale or "en"), "name": record.name}
    return [Panel(_l("Greeting"), permissions.READ, template="hello/_party_panel.html", context=context, inline=True)]
