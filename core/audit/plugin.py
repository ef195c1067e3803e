"""The audit log as a built-in plugin."""
from core.contrib import Permission
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_permissions():
    return [Permission("core.audit.read", _l("Read the audit log"))]
