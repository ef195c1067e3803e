"""The hooks of the pipeline area: default stages, demo opportunities, the funnel and a party's opportunities."""
from core import Panel, Widget, has_permission, hookimpl, lazy_gettext as _l, session as db

from plugins.crm.access import whole_group
from plugins.crm import permissions as p
from plugins.crm.pipeline import models  # noqa: F401  (the tables, for the metadata)
from plugins.crm.pipeline import demo, services


@hookimpl
def load_default_data(session):
    services.load_default_stages(session)


@hookimpl
def load_demo_data(session, progress):
    demo.load(session, progress)


@hookimpl
def dashboard_widgets(user):
    return [Widget(_l("Pipeline"), p.OPPORTUNITY_READ, endpoint="crm.funnel_widget", order=30)]


@hookimpl
def record_panels(kind, record, user):
    if kind != "core.party" or not has_permission(p.OPPORTUNITY_READ, user=user):
        return []
    context = {"opportunities": services.open_opportunities_of_party(db, record.id, user), "party": record,
               "can_write": has_permission(p.OPPORTUNITY_WRITE, user=user)}
    return [Panel(_l("Open opportunities"), p.OPPORTUNITY_READ, template="crm/pipeline/_party_panel.html",
                  context=context, order=20, inline=True)]


@hookimpl
def party_merging(source, target, session):
    with whole_group():  # the party is the group's: every company's records follow it
        services.repoint_party(session, source.id, target.id)
