"""Hooks the CRM offers other modules; each is called inside the transaction of the act."""
import pluggy

hookspec = pluggy.HookspecMarker("kontor")


@hookspec
def crm_lead_converted(lead, opportunity, party, session):
    """A lead was qualified into ``opportunity`` for ``party`` (created or linked)."""


@hookspec
def crm_opportunity_won(opportunity, session):
    """An opportunity moved into a won stage (a sales order or a quote may follow)."""


@hookspec
def crm_opportunity_lost(opportunity, session):
    """An opportunity moved into a lost stage; ``opportunity.lost_reason`` says why."""


@hookspec
def crm_ticket_resolved(ticket, session):
    """A service ticket was resolved."""
