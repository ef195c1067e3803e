"""Rules as a built-in plugin: the permission to write and try rules and to edit lookup tables."""
from core.contrib import Permission
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl

MANAGE = "core.rules.manage"


@hookimpl
def register_permissions():
    return [Permission(MANAGE, _l("Edit lookup tables and write and try rules"), default_roles=("admin",))]
