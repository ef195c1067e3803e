"""The CRM's activities: what this area contributes to the module (see plugins/crm/plugin.py)."""
from core import Panel, Widget, lazy_gettext as _l

from plugins.crm import permissions as p
from plugins.crm.activities import models  # noqa: F401  (the tables, for the metadata)


def register_routes(bp):
    """Add this area's pages (and the timeline's) to the crm blueprint."""
    from plugins.crm.activities import routes

    routes.register(bp)


def register_api(api):
    """Add this area's endpoints to the /api/v1/crm blueprint."""
    from plugins.crm.activities import api as endpoints

    endpoints.register(api)


def settings():
    """This area's module settings."""
    return []


def register_commands(group):
    """Add this area's commands to kontor crm."""


def load_default_data(session):
    """Load this area's reference data on install (activities need none)."""


def load_demo_data(session, progress):
    """Add this area's demo records: activities (some overdue) and timeline notes."""
    from plugins.crm.activities import demo

    demo.load(session, progress)


def dashboard_widgets(user):
    """This area's dashboard widgets for user: my overdue and today's activities."""
    return [Widget(_l("My reminders"), p.ACTIVITY_READ, endpoint="crm.reminders_widget", order=25)]


def record_panels(kind, record, user):
    """This area's panels on a party page: recent activities and the timeline."""
    if kind != "party":
        return []
    from core import has_permission, session as db
    from plugins.crm.activities import services

    if not has_permission(p.ACTIVITY_READ, user=user):
        return []
    context = {"activities": services.recent_of_party(db, record.id, user), "party": record,
               "can_write": has_permission(p.ACTIVITY_WRITE, user=user), "kind_label": services.kind_label}
    return [
        Panel(_l("Recent activities"), p.ACTIVITY_READ, template="crm/activities/_party_panel.html", context=context,
              order=21),
        Panel(_l("Timeline"), p.ACTIVITY_READ, endpoint="crm.timeline_panel", endpoint_args={"party_id": record.id},
              order=22),
    ]


def party_merging(source, target, session):
    """Point this area's references (activities, timeline events) from party source to target."""
    from plugins.crm.activities import services

    services.repoint_party(session, source.id, target.id)
