"""The CRM's campaigns: segments, campaigns sent by email in batches, and unsubscribing."""
from core import Panel, has_permission, lazy_gettext as _l, session as db

from plugins.crm.permissions import CAMPAIGN_READ


def register_routes(bp):
    """Add this area's pages to the crm blueprint."""
    from plugins.crm.campaigns import routes

    routes.register(bp)


def register_api(api):
    """Add this area's endpoints to the /api/v1/crm blueprint."""
    from plugins.crm.campaigns import api as endpoints

    endpoints.register(api)


def settings():
    """This area's module settings: the SMTP server campaigns go out through."""
    from plugins.crm.campaigns.config import SETTINGS

    return SETTINGS


def register_commands(group):
    """Add this area's commands to kontor crm."""
    from plugins.crm.campaigns.cli import send_campaign_command

    group.add_command(send_campaign_command)


def load_default_data(session):
    """This area has no reference data."""


def load_demo_data(session, progress):
    """Add this area's demo records."""
    from plugins.crm.campaigns import demo

    demo.load(session, progress)


def dashboard_widgets(user):
    """This area has no dashboard widget."""
    return []


def record_panels(kind, record, user):
    """The campaigns a party was sent, on the party page."""
    if kind != "party" or not has_permission(CAMPAIGN_READ, user=user):
        return []
    from plugins.crm.campaigns import routes, services

    context = {"rows": services.campaigns_of_party(db, record.id), "status_label": routes.status_label,
               "opted_out": bool(record.email) and services.is_opted_out(db, record.email)}
    return [Panel(_l("Campaigns"), CAMPAIGN_READ, template="crm/campaigns/_party_campaigns.html", context=context,
                  order=50)]


def party_merging(source, target, session):
    """Point campaign recipients from party source to target."""
    from plugins.crm.campaigns import services

    services.move_party(session, source.id, target.id)
