"""The company's own settings as a built-in plugin."""
from core.contrib import Permission
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_permissions():
    return [Permission("core.company.manage", _l("Change the company's settings"))]
