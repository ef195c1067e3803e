"""Users, roles and permissions as a built-in plugin."""
from core.auth import admin, api, cli, routes
from core.contrib import MenuItem, Permission, Role
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_blueprints():
    return [routes.create_blueprint(), admin.create_blueprint()]


@hookimpl
def register_api():
    return [api.users_blueprint(), api.roles_blueprint()]


@hookimpl
def register_permissions():
    return [
        Permission("core.user.read", _l("See users and their roles")),
        Permission("core.user.manage", _l("Create, change and deactivate users")),
        Permission("core.role.manage", _l("Create roles and change the permission matrix")),
    ]


@hookimpl
def register_roles():
    return [Role("admin", _l("Administrator"), _l("Every permission of every module."))]


@hookimpl
def register_menu_items():
    return [
        MenuItem("admin", _l("Users"), "users.user_list", "core.user.read", order=10),
        MenuItem("admin", _l("Roles"), "users.role_list", "core.role.manage", order=20),
    ]


@hookimpl
def register_commands():
    return [cli.users_group]
