"""Parties, the shared master data, as a built-in plugin."""
from core.contrib import Permission, Role
from core.i18n import lazy_gettext as _l
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
