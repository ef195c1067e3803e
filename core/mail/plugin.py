"""Outgoing mail as a built-in plugin: its permission, the Administration → Mail page and the send job."""
from core.contrib import JobKind, MenuItem, Permission
from core.i18n import lazy_gettext as _l
from core.mail import routes
from core.mail.services import MAX_ATTEMPTS, SEND_KIND, send_job
from core.plugins import hookimpl

MANAGE = "core.mail.manage"


@hookimpl
def register_permissions():
    return [Permission(MANAGE, _l("Set up outgoing mail and read the mail log"))]


@hookimpl
def register_blueprints():
    return [routes.bp]


@hookimpl
def register_menu_items():
    return [MenuItem("admin", _l("Mail"), "mail.settings", MANAGE, order=70)]


@hookimpl
def register_job_kinds():
    # No permission of its own: whoever may do what the message is about (post an invoice, reset
    # their password) may have it sent; the service that asks checks that.
    return [JobKind(SEND_KIND, run=send_job, title=_l("Send a message"), max_attempts=MAX_ATTEMPTS)]
