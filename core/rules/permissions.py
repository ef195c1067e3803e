"""The core's rules permission."""
from core.contrib import Permission
from core.i18n import lazy_gettext as _l

MANAGE = "core.rules.manage"

PERMISSIONS = [Permission(MANAGE, _l("Edit lookup tables and write and try rules"), default_roles=("admin",))]
