"""The CRM's place in the navigation menu."""
from core import MenuItem, MenuSection, lazy_gettext as _l

from plugins.crm import permissions as p

MENU_ITEMS = [
    MenuSection("crm", _l("CRM"), order=300),
    MenuItem("crm", _l("Leads"), "crm.leads", p.LEAD_READ, order=20),
    MenuItem("crm", _l("Pipeline"), "crm.board", p.OPPORTUNITY_READ, order=21),
    MenuItem("crm", _l("My activities"), "crm.my_activities", p.ACTIVITY_READ, order=22),
    MenuItem("crm", _l("Tickets"), "crm.tickets", p.TICKET_READ, order=23),
    MenuItem("crm", _l("Campaigns"), "crm.campaigns", p.CAMPAIGN_READ, order=24),
    MenuItem("crm", _l("Forecast"), "crm.forecast", p.REPORT_READ, order=25),
]
