"""Approvals as a built-in plugin: the permission, a rule kind per approvable kind, the notification
kinds, the panel on every approvable record's page, the pages, the API and the commands."""
from __future__ import annotations

from core.approvals import api, cli, routes
from core.approvals.registry import MANAGE, approvables, rule_kind_of
from core.contrib import MenuItem, NotificationKind, Panel, Permission
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl
from core.security import SIGNED_IN


@hookimpl
def register_permissions():
    return [Permission(MANAGE, _l("Define approval rules: when records need approval and who approves"))]


@hookimpl
def register_rule_kinds():
    # a condition of an approval rule is a boolean rule over the approvable kind's fields
    return [rule_kind_of(approvable) for approvable in approvables().values()]


@hookimpl
def register_notification_kinds():
    return [NotificationKind("core.approval_requested", _l("Someone asks for your approval"), channel="inapp"),
            NotificationKind("core.approval_decided", _l("Your request for approval was decided"), channel="inapp")]


@hookimpl
def register_blueprints():
    return [routes.bp]


@hookimpl
def register_api():
    return [api.bp]


@hookimpl
def register_menu_items():
    return [MenuItem("main", routes.AwaitingLabel(), "approvals.awaiting", SIGNED_IN, order=60),
            MenuItem("admin", _l("Approval rules"), "approvals.rule_list", MANAGE, order=45)]


@hookimpl
def register_commands():
    return [cli.approvals_group]


@hookimpl
def record_panels(kind, record):
    """The Approval panel, on the page of every record of an approvable kind."""
    approvable = approvables().get(kind)
    if approvable is None or getattr(record, "id", None) is None:
        return []
    return [Panel(_l("Approval"), approvable.read_permission, endpoint="approvals.panel",
                  endpoint_args={"kind": kind, "record_id": record.id}, order=150)]
