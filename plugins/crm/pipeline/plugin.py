"""The hooks of the pipeline area: default stages, demo opportunities, the funnel, a party's opportunities,
and opportunities as an approvable kind (their "Request approval" action, their timeline told each outcome)."""
from core import Action, Panel, Widget, has_permission, hookimpl, lazy_gettext as _l, session as db

from plugins.crm.access import whole_group
from plugins.crm import permissions as p
from plugins.crm.pipeline import models  # noqa: F401  (the tables, for the metadata)
from plugins.crm.pipeline import approvals, demo, services


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


@hookimpl
def register_approvables():
    """Opportunities: an admin's rules may ask approval of a discount, a large deal … before it is won."""
    return [approvals.APPROVABLE]


@hookimpl
def record_actions(kind, record, user):
    if kind != approvals.KIND or not approvals.may_request(db, record, user):
        return []
    return [Action(_l("Request approval"), "crm.opportunity_request_approval", p.OPPORTUNITY_WRITE,
                   endpoint_args={"opportunity_id": record.id}, post=True, order=20)]


@hookimpl
def approval_decided(kind, record, state, session):
    if kind == approvals.KIND:
        approvals.note_decision(session, record, state)
