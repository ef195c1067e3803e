"""The CRM's pipeline: what this area contributes to the module (see plugins/crm/plugin.py)."""
from core import Panel, Widget, lazy_gettext as _l

from plugins.crm import permissions as p
from plugins.crm.pipeline import models  # noqa: F401  (the tables, for the metadata)


def register_routes(bp):
    """Add this area's pages to the crm blueprint."""
    from plugins.crm.pipeline import routes

    routes.register(bp)


def register_api(api):
    """Add this area's endpoints to the /api/v1/crm blueprint."""
    from plugins.crm.pipeline import api as endpoints

    endpoints.register(api)


def settings():
    """This area's module settings."""
    return []


def register_commands(group):
    """Add this area's commands to kontor crm."""
    from plugins.crm.pipeline import cli

    cli.register(group)


def load_default_data(session):
    """Load this area's reference data on install: the default stages."""
    from plugins.crm.pipeline import services

    services.load_default_stages(session)


def load_demo_data(session, progress):
    """Add this area's demo records: opportunities across every stage and owner."""
    from plugins.crm.pipeline import demo

    demo.load(session, progress)


def dashboard_widgets(user):
    """This area's dashboard widgets for user: the pipeline funnel."""
    return [Widget(_l("Pipeline"), p.OPPORTUNITY_READ, endpoint="crm.funnel_widget", order=30)]


def record_panels(kind, record, user):
    """This area's panels on a record page: a party's open opportunities."""
    if kind != "party":
        return []
    from core import has_permission, session as db
    from plugins.crm.pipeline import services

    if not has_permission(p.OPPORTUNITY_READ, user=user):
        return []
    rows = services.open_opportunities_of_party(db, record.id, user)
    context = {"opportunities": rows, "party": record,
               "can_write": has_permission(p.OPPORTUNITY_WRITE, user=user)}
    return [Panel(_l("Open opportunities"), p.OPPORTUNITY_READ, template="crm/pipeline/_party_panel.html",
                  context=context, order=20)]


def party_merging(source, target, session):
    """Point this area's references from party source to target."""
    from plugins.crm.pipeline import services

    services.repoint_party(session, source.id, target.id)
