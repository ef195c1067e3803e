"""The hooks of the campaigns area: its send job, demo campaigns, and the campaigns a party was sent."""
from core import Panel, has_permission, hookimpl, lazy_gettext as _l, session as db

from plugins.crm.access import whole_group
from plugins.crm.campaigns import models  # noqa: F401  (the tables, for the metadata)
from plugins.crm.campaigns import demo, jobs, services
from plugins.crm.campaigns.models import STATUS_LABELS
from plugins.crm.permissions import CAMPAIGN_READ


@hookimpl
def load_demo_data(session, progress):
    demo.load(session, progress)


@hookimpl
def record_panels(kind, record, user):
    if kind != "core.party" or not has_permission(CAMPAIGN_READ, user=user):
        return []
    context = {"rows": services.campaigns_of_party(db, record.id), "status_labels": STATUS_LABELS,
               "opted_out": bool(record.email) and services.is_opted_out(db, record.email)}
    return [Panel(_l("Campaigns"), CAMPAIGN_READ, template="crm/campaigns/_party_campaigns.html", context=context,
                  order=50, inline=True)]


@hookimpl
def party_merging(source, target, session):
    with whole_group():  # the party is the group's: every company's records follow it
        services.move_party(session, source.id, target.id)


@hookimpl
def register_job_kinds():
    return jobs.JOB_KINDS
