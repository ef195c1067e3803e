"""The hooks of the activities area: demo activities, reminders, a party's activities and timeline."""
from core import Panel, Widget, has_permission, hookimpl, lazy_gettext as _l, session as db

from plugins.crm.access import whole_group
from plugins.crm import permissions as p
from plugins.crm.activities import models  # noqa: F401  (the tables, for the metadata)
from plugins.crm.activities.models import KIND_LABELS
from plugins.crm.activities import demo, due, jobs, services


@hookimpl
def load_demo_data(session, progress):
    demo.load(session, progress)


@hookimpl
def dashboard_widgets(user):
    return [Widget(_l("My reminders"), p.ACTIVITY_READ, endpoint="crm.reminders_widget", order=25)]


@hookimpl
def record_panels(kind, record, user):
    if kind != "core.party" or not has_permission(p.ACTIVITY_READ, user=user):
        return []
    context = {"activities": services.recent_of_party(db, record.id, user), "party": record,
               "can_write": has_permission(p.ACTIVITY_WRITE, user=user), "kind_labels": KIND_LABELS}
    return [
        Panel(_l("Recent activities"), p.ACTIVITY_READ, template="crm/activities/_party_panel.html", context=context,
              order=21, inline=True),
        Panel(_l("Timeline"), p.ACTIVITY_READ, endpoint="crm.timeline_panel", endpoint_args={"party_id": record.id},
              order=22),
    ]


@hookimpl
def party_merging(source, target, session):
    with whole_group():  # the party is the group's: every company's records follow it
        services.repoint_party(session, source.id, target.id)


@hookimpl
def register_notification_kinds():
    """An activity of the user's that fell due."""
    return due.KINDS


@hookimpl
def register_job_kinds():
    return jobs.JOB_KINDS


@hookimpl
def register_schedules():
    return jobs.SCHEDULES
