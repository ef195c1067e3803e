"""The hooks of the leads area: its settings, each company's web form key, demo leads, dashboard widget and party panel."""
from core import Panel, Widget, hookimpl, lazy_gettext as _l, session as db

from plugins.crm.access import whole_group
from plugins.crm.leads import models  # noqa: F401  (the tables, for the metadata)
from plugins.crm.leads import demo, jobs, services, webform
from plugins.crm.leads.models import STATUS_LABELS
from plugins.crm.permissions import LEAD_READ


@hookimpl
def register_settings():
    return list(webform.SETTINGS)


@hookimpl
def load_default_data(session):
    webform.ensure_token(session)


@hookimpl
def load_demo_data(session, progress):
    demo.load_demo_leads(session, progress)


@hookimpl
def dashboard_widgets(user):
    count = services.open_lead_count(db, user=user)
    return [Widget(_l("Open leads"), LEAD_READ, template="crm/leads/_widget.html", context={"count": count},
                   order=20)]


@hookimpl
def record_panels(kind, record, user):
    if kind != "core.party":
        return []
    leads = services.leads_of_party(db, record.id, user=user)
    if not leads:
        return []
    return [Panel(_l("Leads"), LEAD_READ, template="crm/leads/_party_panel.html",
                  context={"leads": leads, "status_labels": STATUS_LABELS}, order=40, inline=True)]


@hookimpl
def party_merging(source, target, session):
    with whole_group():  # the party is the group's: every company's records follow it
        services.repoint_party(session, source.id, target.id)


@hookimpl
def register_job_kinds():
    return jobs.JOB_KINDS
