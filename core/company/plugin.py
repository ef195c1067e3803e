"""The group's companies and their settings as a built-in plugin."""
from core.company import api, routes
from core.contrib import JinjaExtras, MenuItem, Permission
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_permissions():
    return [
        Permission("core.company.read", _l("See the company's settings"), ("staff",)),
        Permission("core.company.manage", _l("Change the company's settings")),
    ]


@hookimpl
def register_blueprints():
    return [routes.create_blueprint()]


@hookimpl
def register_api():
    return [api.create_blueprint(), api.companies_blueprint()]


@hookimpl
def register_menu_items():
    return [
        MenuItem("admin", _l("Company"), "company.company_settings", "core.company.manage", order=5),
        MenuItem("admin", _l("Companies"), "company.company_list", "core.company.manage", order=6),
        MenuItem("admin", _l("Module settings"), "company.module_settings", "core.company.manage", order=80),
    ]


def _header_companies():
    """The header's company switcher: (the companies the signed-in user works in, their current one)."""
    from flask_login import current_user

    from core.company.admin import switcher
    from core.db import session

    return switcher(session, current_user)


@hookimpl
def register_jinja():
    return JinjaExtras(globals={"header_companies": _header_companies})
