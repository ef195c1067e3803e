"""Users, roles and permissions as a built-in plugin."""
from core.auth import routes
from core.contrib import Permission, Role
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_blueprints():
    return [routes.create_blueprint()]


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

