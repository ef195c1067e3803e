"""The CRM's permissions and the roles it installs.

A salesperson sees their own leads and opportunities; ``crm.lead.read_all`` and
``crm.opportunity.read_all`` lift that. Activities follow the record they are about, and an
activity only on a customer is changed by its owner, its assignee or a holder of
``crm.activity.manage_all`` (see :mod:`plugins.crm.access`).
"""
from core import Permission, Role, lazy_gettext as _l

LEAD_READ = "crm.lead.read"
LEAD_WRITE = "crm.lead.write"
LEAD_IMPORT = "crm.lead.import"
LEAD_READ_ALL = "crm.lead.read_all"
OPPORTUNITY_READ = "crm.opportunity.read"
OPPORTUNITY_WRITE = "crm.opportunity.write"
OPPORTUNITY_READ_ALL = "crm.opportunity.read_all"
STAGE_MANAGE = "crm.stage.manage"
REPORT_READ = "crm.report.read"
ACTIVITY_READ = "crm.activity.read"
ACTIVITY_WRITE = "crm.activity.write"
ACTIVITY_MANAGE_ALL = "crm.activity.manage_all"
TICKET_READ = "crm.ticket.read"
TICKET_WRITE = "crm.ticket.write"
SLA_MANAGE = "crm.sla.manage"
CAMPAIGN_READ = "crm.campaign.read"
CAMPAIGN_WRITE = "crm.campaign.write"
CAMPAIGN_SEND = "crm.campaign.send"

SALESPERSON = "salesperson"
SALES_MANAGER = "sales_manager"
SERVICE_AGENT = "service_agent"
MARKETING = "marketing"

ROLES = [
    Role(SALESPERSON, _l("Salesperson"), _l("Works their own leads and opportunities.")),
    Role(SALES_MANAGER, _l("Sales manager"), _l("Sees and steers the whole pipeline, its stages and forecast.")),
    Role(SERVICE_AGENT, _l("Service agent"), _l("Answers service tickets.")),
    Role(MARKETING, _l("Marketing"), _l("Builds segments and sends campaigns.")),
]

_SALES = (SALESPERSON, SALES_MANAGER, "staff")
PERMISSIONS = [
    Permission(LEAD_READ, _l("See leads"), (*_SALES, MARKETING)),
    Permission(LEAD_WRITE, _l("Create and edit leads"), (*_SALES, MARKETING)),
    Permission(LEAD_IMPORT, _l("Import leads from CSV"), (SALES_MANAGER, MARKETING)),
    Permission(LEAD_READ_ALL, _l("See every salesperson's leads"), (SALES_MANAGER, MARKETING)),
    Permission(OPPORTUNITY_READ, _l("See opportunities"), _SALES),
    Permission(OPPORTUNITY_WRITE, _l("Create and edit opportunities"), _SALES),
    Permission(OPPORTUNITY_READ_ALL, _l("See every salesperson's opportunities"), (SALES_MANAGER,)),
    Permission(STAGE_MANAGE, _l("Configure pipeline stages"), (SALES_MANAGER,)),
    Permission(REPORT_READ, _l("See the sales forecast and won/lost analysis"), (SALES_MANAGER,)),
    Permission(ACTIVITY_READ, _l("See activities and timelines"), (*_SALES, SERVICE_AGENT, MARKETING)),
    Permission(ACTIVITY_WRITE, _l("Plan and log activities"), (*_SALES, SERVICE_AGENT)),
    Permission(ACTIVITY_MANAGE_ALL, _l("See, change and delete everyone's activities on customers"), (SALES_MANAGER,)),
    Permission(TICKET_READ, _l("See service tickets"), (SERVICE_AGENT, SALES_MANAGER, "staff")),
    Permission(TICKET_WRITE, _l("Handle service tickets"), (SERVICE_AGENT,)),
    Permission(SLA_MANAGE, _l("Configure service level policies"), (SERVICE_AGENT,)),
    Permission(CAMPAIGN_READ, _l("See segments and campaigns"), (MARKETING, SALES_MANAGER)),
    Permission(CAMPAIGN_WRITE, _l("Build segments and campaigns"), (MARKETING,)),
    Permission(CAMPAIGN_SEND, _l("Send campaigns"), (MARKETING,)),
]
