"""The notification a ticket's assignee gets when the ticket is given to them by someone else."""
from __future__ import annotations

from sqlalchemy.orm import Session

from core import N_, NotificationKind, lazy_gettext as _l, notify

from plugins.crm.tickets.models import Ticket

ASSIGNED = "crm.ticket_assigned"
KINDS = [NotificationKind(ASSIGNED, _l("A service ticket is assigned to me"))]


def tell_assignee(db: Session, ticket: Ticket, *, previous_id: int | None, by_id: int | None) -> list:
    """Notify the ticket's assignee when it just went to them (it had another assignee or none) from
    someone other than themselves; they are skipped when they may not read the ticket."""
    assignee_id = ticket.assignee_id
    if assignee_id is None or assignee_id == previous_id or assignee_id == by_id:
        return []
    return notify(db, ASSIGNED, [assignee_id], N_("Ticket %(number)s is assigned to you: %(subject)s"),
                  {"number": ticket.number, "subject": ticket.subject}, record=f"crm.ticket:{ticket.id}",
                  url=f"/crm/tickets/{ticket.id}")
