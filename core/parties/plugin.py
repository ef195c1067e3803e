"""Parties, the shared master data, as a built-in plugin."""
from core.contrib import JinjaExtras, MenuItem, MenuSection, Permission, RecordRule, Role, Widget
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


def _visible_parties(_user):
    """The parties record rule: a party restricted to some companies is seen only where one of them
    is in scope, by users and the system alike; nothing is narrowed inside ``core.all_companies()``."""
    from core.company.scope import scope_companies
    from core.parties.services import restricted_party_condition

    companies = scope_companies()
    return None if companies is None else restricted_party_condition(companies)


@hookimpl
def register_record_rules():
    from core.parties.models import Party

    return [RecordRule(Party, _visible_parties, "core: a party restricted to some companies")]


@hookimpl
def register_attachables():
    """A party takes attachments (a signed contract), by the parties' read and write permissions."""
    from core.contrib import Attachable
    from core.parties.models import Party

    return [Attachable("core.party", Party, "core.party.read", "core.party.write")]
