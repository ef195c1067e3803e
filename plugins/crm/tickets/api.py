"""The ticket endpoints under /api/v1/crm/tickets."""
from flask_login import current_user

from core import (documented, json_response, load_body, load_query, mail_configured, require, session as db, transaction,
                  utcnow)

from plugins.crm.permissions import TICKET_READ, TICKET_WRITE
from plugins.crm.tickets import services
from plugins.crm.tickets.schemas import (TicketInputSchema, TicketQuerySchema, TicketReplySchema, TicketSchema,
                                        TicketStatusSchema, TicketMessageSchema)
from plugins.crm.tickets.config import warn_percent
from plugins.crm.web import api


def _dump(ticket, *, with_messages: bool = False) -> dict:
    body = TicketSchema(exclude=() if with_messages else ("messages",)).dump(ticket)
    body["sla"] = services.sla_of(ticket, utcnow()).state
    return body


@api.get("/tickets")
@require(TICKET_READ)
@documented("List tickets (filters: q, status, priority, assignee, sla, party_id)", query=TicketQuerySchema,
            response=TicketSchema, many=True)
def api_tickets():
    args = load_query(TicketQuerySchema())
    filters = services.TicketFilters(q=args["q"], status=args["status"], priority=args["priority"],
                                     assignee=args["assignee"], sla=args["sla"], party_id=args["party_id"])
    page = services.list_tickets(db, filters, sort=args["sort"], after=args["after"], limit=args["limit"],
                                 user_id=current_user.id)
    return json_response({"items": [_dump(t) for t in page.rows], "next": page.next_cursor})


@api.get("/tickets/<int:ticket_id>")
@require(TICKET_READ)
@documented("One ticket with its conversation", response=TicketSchema)
def api_ticket(ticket_id: int):
    return json_response(_dump(services.get_ticket(db, ticket_id), with_messages=True))


@api.post("/tickets")
@require(TICKET_WRITE)
@documented("Open a ticket", body=TicketInputSchema, response=TicketSchema, status=201)
def api_ticket_create():
    data = load_body(TicketInputSchema())
    with transaction():
        ticket = services.create_ticket(db, data, user_id=current_user.id, warn_percent=warn_percent(db))
    return json_response(_dump(ticket, with_messages=True), 201)


@api.patch("/tickets/<int:ticket_id>")
@require(TICKET_WRITE)
@documented("Change a ticket's fields", body=TicketInputSchema, response=TicketSchema)
def api_ticket_update(ticket_id: int):
    ticket = services.get_ticket(db, ticket_id)
    data = load_body(TicketInputSchema(), partial=True)
    with transaction():
        services.update_ticket(db, ticket, data, warn_percent=warn_percent(db))
    return json_response(_dump(ticket, with_messages=True))


@api.post("/tickets/<int:ticket_id>/status")
@require(TICKET_WRITE)
@documented("Move a ticket along its workflow (new, open, waiting, resolved, closed)", body=TicketStatusSchema,
            response=TicketSchema)
def api_ticket_status(ticket_id: int):
    ticket = services.get_ticket(db, ticket_id)
    data = load_body(TicketStatusSchema())
    with transaction():
        services.change_status(db, ticket, data["status"], user_id=current_user.id)
    return json_response(_dump(ticket, with_messages=True))


@api.post("/tickets/<int:ticket_id>/replies")
@require(TICKET_WRITE)
@documented("Add a reply the customer sees (kind=reply) or an internal note (kind=note)",
            body=TicketReplySchema, response=TicketMessageSchema, status=201)
def api_ticket_reply(ticket_id: int):
    ticket = services.get_ticket(db, ticket_id)
    data = load_body(TicketReplySchema())
    with transaction():
        message = services.add_message(db, ticket, data["kind"], data["body"], user_id=current_user.id)
    if message.is_reply and mail_configured(db):
        with transaction():
            services.email_reply(db, message)
    return json_response(TicketMessageSchema().dump(message), 201)
