"""The CRM's service: tickets with their conversation, and service level policies."""
from core import Panel, Widget, has_permission, lazy_gettext as _l, session as db, utcnow

from plugins.crm.permissions import TICKET_READ, TICKET_WRITE


def register_routes(bp):
    """Add this area's pages to the crm blueprint."""
    from plugins.crm.service import routes

    routes.register(bp)


def register_api(api):
    """Add this area's endpoints to the /api/v1/crm blueprint."""
    from plugins.crm.service import api as endpoints

    endpoints.register(api)


def settings():
    """This area's module settings."""
    from plugins.crm.service.config import SETTINGS

    return SETTINGS


def register_commands(group):
    """Add this area's commands to kontor crm."""
    from plugins.crm.service.cli import sla_check_command

    group.add_command(sla_check_command)


def load_default_data(session):
    """Load this area's reference data on install."""
    from plugins.crm.service import services

    services.load_default_policies(session)


def load_demo_data(session, progress):
    """Add this area's demo records."""
    from plugins.crm.service import demo

    demo.load(session, progress)


def dashboard_widgets(user):
    """This area's dashboard widgets for user."""
    if not has_permission(TICKET_READ, user=user):
        return []
    from plugins.crm.service import services

    now = utcnow()
    context = {"open": services.count_open(db), "breached": services.breached_tickets(db, now, limit=5),
               "breached_count": services.count_breached(db, now), "at_risk_count": services.count_at_risk(db, now)}
    return [Widget(_l("Service levels"), TICKET_READ, template="crm/service/_widget.html", context=context, order=40)]


def record_panels(kind, record, user):
    """This area's panels on a record page."""
    if kind != "party" or not has_permission(TICKET_READ, user=user):
        return []
    from plugins.crm.service import services

    context = {"tickets": services.open_tickets_of_party(db, record.id), "party_id": record.id,
               "can_write": has_permission(TICKET_WRITE, user=user), "status_label": services.status_label,
               "priority_label": services.priority_label}
    return [Panel(_l("Open tickets"), TICKET_READ, template="crm/service/_party_tickets.html", context=context,
                  order=40)]


def party_merging(source, target, session):
    """Point this area's references from party source to target."""
    from plugins.crm.service import services

    services.move_party(session, source.id, target.id)
