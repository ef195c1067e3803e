"""The hooks of the tickets area: its settings, default SLA policies, demo tickets, the service
levels widget and a party's open tickets."""
from core import Panel, Widget, has_permission, hookimpl, lazy_gettext as _l, session as db, utcnow

from plugins.crm.access import whole_group
from plugins.crm.permissions import TICKET_READ, TICKET_WRITE
from plugins.crm.tickets import models  # noqa: F401  (the tables, for the metadata)
from plugins.crm.tickets import config, demo, jobs, notifications, services
from plugins.crm.tickets.models import PRIORITY_LABELS, STATUS_LABELS


@hookimpl
def register_settings():
    return config.SETTINGS


@hookimpl
def load_default_data(session):
    services.load_default_policies(session)


@hookimpl
def load_demo_data(session, progress):
    demo.load(session, progress)


@hookimpl
def dashboard_widgets(user):
    if not has_permission(TICKET_READ, user=user):
        return []
    now = utcnow()
    context = {"open": services.count_open(db), "breached": services.breached_tickets(db, now, limit=5),
               "breached_count": services.count_breached(db, now), "at_risk_count": services.count_at_risk(db, now)}
    return [Widget(_l("Service levels"), TICKET_READ, template="crm/tickets/_widget.html", context=context, order=40)]


@hookimpl
def record_panels(kind, record, user):
    if kind != "core.party" or not has_permission(TICKET_READ, user=user):
        return []
    context = {"tickets": services.open_tickets_of_party(db, record.id), "party_id": record.id,
               "can_write": has_permission(TICKET_WRITE, user=user), "status_labels": STATUS_LABELS,
               "priority_labels": PRIORITY_LABELS}
    return [Panel(_l("Open tickets"), TICKET_READ, template="crm/tickets/_party_tickets.html", context=context,
                  order=40, inline=True)]


@hookimpl
def party_merging(source, target, session):
    with whole_group():  # the party is the group's: every company's records follow it
        services.move_party(session, source.id, target.id)


@hookimpl
def register_job_kinds():
    return jobs.JOB_KINDS


@hookimpl
def register_schedules():
    return jobs.SCHEDULES


@hookimpl
def register_notification_kinds():
    """A ticket assigned to its assignee by someone else."""
    return notifications.KINDS
