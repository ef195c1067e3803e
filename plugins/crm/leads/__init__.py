"""The CRM's leads: what this area contributes to the module (see plugins/crm/plugin.py)."""
from core import Panel, Widget, lazy_gettext as _l, session as db

from plugins.crm.leads import models  # noqa: F401  (the tables, for the metadata)


def register_routes(bp):
    """Add this area's pages to the crm blueprint."""
    from plugins.crm.leads import routes

    routes.register(bp)


def register_api(api):
    """Add this area's endpoints to the /api/v1/crm blueprint."""
    from plugins.crm.leads import api as lead_api

    lead_api.register(api)


def settings():
    """This area's module settings."""
    from plugins.crm.leads import webform

    return list(webform.SETTINGS)


def register_commands(group):
    """Add this area's commands to kontor crm."""
    from plugins.crm.leads.cli import import_leads_command

    group.add_command(import_leads_command)


def load_default_data(session):
    """Load this area's reference data on install (leads need none: sources and statuses are fixed)."""


def load_demo_data(session, progress):
    """Add this area's demo records."""
    from plugins.crm.leads.demo import load_demo_leads

    load_demo_leads(session, progress)


def dashboard_widgets(user):
    """This area's dashboard widgets for user: how many open leads they have."""
    from plugins.crm.leads import services
    from plugins.crm.permissions import LEAD_READ

    count = services.open_lead_count(db, user=user)
    return [Widget(_l("Open leads"), LEAD_READ, template="crm/leads/_widget.html", context={"count": count},
                   order=20)]


def record_panels(kind, record, user):
    """This area's panels on a record page: a party's leads."""
    if kind != "party":
        return []
    from plugins.crm.leads import services
    from plugins.crm.permissions import LEAD_READ

    leads = services.leads_of_party(db, record.id, user=user)
    if not leads:
        return []
    return [Panel(_l("Leads"), LEAD_READ, template="crm/leads/_party_panel.html", context={"leads": leads},
                  order=40)]


def party_merging(source, target, session):
    """Point this area's references from party source to target."""
    from plugins.crm.leads import services

    services.repoint_party(session, source.id, target.id)
