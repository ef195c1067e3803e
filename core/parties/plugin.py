"""Parties, the shared master data, as a built-in plugin."""
from core.contrib import JinjaExtras, MenuItem, MenuSection, Permission, Role, Widget
from core.i18n import lazy_gettext as _l
from core.parties import api, demo, routes
from core.parties.schemas import country_name
from core.plugins import hookimpl


@hookimpl
def register_permissions():
    return [
        Permission("core.party.read", _l("See companies and people"), ("staff",)),
        Permission("core.party.write", _l("Create and change companies and people"), ("staff",)),
        Permission("core.party.merge", _l("Merge duplicate parties")),
    ]


@hookimpl
def register_roles():
    return [Role("staff", _l("Staff"), _l("Everyday work with companies and people."))]


@hookimpl
def register_blueprints():
    return [routes.create_blueprint()]


@hookimpl
def register_api():
    return [api.create_blueprint()]


@hookimpl
def register_menu_items():
    return [MenuSection("contacts", _l("Contacts"), order=800),
            MenuItem("contacts", _l("Parties"), "parties.party_list", "core.party.read", order=10)]


@hookimpl
def dashboard_widgets():
    return [Widget(_l("Parties"), "core.party.read", endpoint="parties.widget", order=10)]


@hookimpl
def register_jinja():
    return JinjaExtras(globals={"country_name": country_name})


@hookimpl
def load_demo_data(session, progress):
    demo.load_demo_parties(session, progress)
