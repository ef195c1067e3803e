"""The CRM module's manifest and its module-wide hooks.

The module is made of areas (leads, pipeline, activities, tickets, campaigns); each area's
``plugin.py`` holds that area's hooks. Here are the hooks of the module as a whole: its hookspecs,
permissions, roles, record rules, menu, migrations, commands, and its one page blueprint and one API blueprint
(:mod:`plugins.crm.web`), on which the areas' routes and endpoints are declared.
"""
from pathlib import Path

import click

from core import Manifest, hookimpl, import_areas

from plugins.crm import access, hookspecs, menus, permissions, web

manifest = Manifest(
    name="crm",
    title="CRM",
    version="1.0.0",
    summary="Leads, pipeline, activities, service tickets and campaigns, with the customer's whole picture.",
    requires_core=">=0.1,<1",
    author="Kontor",
    license="AGPL-3.0-or-later",
    category="Sales",
    areas=("leads", "pipeline", "activities", "tickets", "campaigns"),
)


@hookimpl
def register_hookspecs():
    return hookspecs


@hookimpl
def register_blueprints():
    """The pages of every area, declared on the one ``crm`` blueprint."""
    import_areas(__package__, manifest, "routes")
    return [web.bp]


@hookimpl
def register_api():
    """The endpoints of every area, declared on the one ``api_crm`` blueprint under /api/v1/crm."""
    import_areas(__package__, manifest, "api")
    return [web.api]


@hookimpl
def register_permissions():
    return permissions.PERMISSIONS


@hookimpl
def register_roles():
    return permissions.ROLES


@hookimpl
def register_record_rules():
    """A salesperson's own leads and opportunities (see :mod:`plugins.crm.access`)."""
    return access.record_rules()


@hookimpl
def register_menu_items():
    return menus.MENU_ITEMS


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def register_commands():
    from plugins.crm.campaigns.cli import send_campaign_command
    from plugins.crm.leads.cli import import_leads_command
    from plugins.crm.pipeline.cli import move_command, stages_command
    from plugins.crm.tickets.cli import sla_check_command

    commands = [import_leads_command, stages_command, move_command, sla_check_command, send_campaign_command]
    return [click.Group("crm", help="The CRM: leads, pipeline, tickets and campaigns.", commands=commands)]


@hookimpl
def register_attachables():
    """Tickets, leads and opportunities take attachments, by their own read and write permissions."""
    from core import Attachable
    from plugins.crm.leads.models import Lead
    from plugins.crm.pipeline.models import Opportunity
    from plugins.crm.tickets.models import Ticket

    return [Attachable("crm.ticket", Ticket, permissions.TICKET_READ, permissions.TICKET_WRITE),
            Attachable("crm.lead", Lead, permissions.LEAD_READ, permissions.LEAD_WRITE),
            Attachable("crm.opportunity", Opportunity, permissions.OPPORTUNITY_READ, permissions.OPPORTUNITY_WRITE)]
