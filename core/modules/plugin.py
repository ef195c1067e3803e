"""Module lifecycle and the marketplace as a built-in plugin."""
from core.contrib import Permission
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_permissions():
    return [
        Permission("core.module.read", _l("See installed and available modules")),
        Permission("core.module.manage", _l("Install, disable, enable, purge and upgrade modules")),
    ]
