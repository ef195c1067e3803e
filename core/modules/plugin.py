"""Module lifecycle and the marketplace as a built-in plugin."""
from core.contrib import MenuItem, Permission
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_permissions():
    return [
        Permission("core.module.read", _l("See installed and available modules")),
        Permission("core.module.manage", _l("Install, disable, enable, purge and upgrade modules")),
    ]


@hookimpl
def register_blueprints():
    from core.modules import marketplace_routes, routes

    return [routes.create_blueprint(), marketplace_routes.create_blueprint()]


@hookimpl
def register_api():
    from core.modules import api, marketplace_api

    return [api.create_api(), marketplace_api.create_api()]


@hookimpl
def register_menu_items():
    return [MenuItem("admin", _l("Modules"), "modules.index", "core.module.read", order=40)]


@hookimpl
def register_commands():
    from core.modules import cli

    return [cli.modules_group]
