"""The audit log as a built-in plugin: its permission, pages, API, menu item, command and panel."""
from core.audit import api, cli, routes
from core.audit.services import changes_of
from core.contrib import JinjaExtras, MenuItem, Panel, Permission, RecordRule, Widget
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl

@hookimpl
def register_permissions():
    return [Permission("core.audit.read", _l("Read the audit log"))]


@hookimpl
def register_blueprints():
    return [routes.create_blueprint()]


@hookimpl
def register_api():
    return [api.create_blueprint()]


@hookimpl
def register_menu_items():
    return [MenuItem("admin", _l("Audit log"), "audit.audit_list", "core.audit.read", order=90)]


@hookimpl
def register_record_rules():
    """A company's audit records are read only where that company is in scope; the group's shared
    records and the platform's acts (no company) by every reader of the log."""
    from sqlalchemy import or_

    from core.audit.models import AuditRecord
    from core.company.scope import scope_companies

    def readable(_user):
        companies = scope_companies()  # of the query the rule narrows
        if companies is None:
            return None
        return or_(AuditRecord.company_id.is_(None), AuditRecord.company_id.in_(companies))

    return [RecordRule(AuditRecord, readable, "audit records of the companies in scope")]


@hookimpl
def register_commands():
    return [cli.audit_group]


@hookimpl
def record_panels(kind, record):
    """The history of any record page's record: the audit log keys changes by table and id."""
    table = getattr(getattr(record, "__table__", None), "name", None)
    if table is None or getattr(record, "id", None) is None:
        return []
    return [Panel(_l("History"), "core.audit.read", endpoint="audit.record_panel",
                  endpoint_args={"table_name": table, "record_id": record.id}, order=900)]


@hookimpl
def dashboard_widgets():
    return [Widget(_l("Recent changes"), "core.audit.read", endpoint="audit.widget", order=90)]


@hookimpl
def register_jinja():
    return JinjaExtras(globals={"audit_changes": changes_of},
                       filters={"audit_action": routes.action_label, "audit_value": routes.show_value})
