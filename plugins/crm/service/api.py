"""The ticket endpoints under /api/v1/crm/tickets."""
from flask_login import current_user

from core import (ApiError, KontorError, documented, json_response, load_body, load_query, require,
                  session as db, utcnow)

from plugins.crm.campaigns import config as mail_config
from plugins.crm.permissions import TICKET_READ, TICKET_WRITE
from plugins.crm.service import services
from plugins.crm.service.schemas import (TicketInputSchema, TicketQuerySchema, TicketReplySchema, TicketSchema,
                                        TicketStatusSchema, TicketMessageSchema)
from plugins.crm.service.config import warn_percent


def _dump(ticket, *, with_messages: bool = False) -> dict:
    body = TicketSchema(exclude=() if with_messages else ("messages",)).dump(ticket)
    body["sla"] = services.sla_of(ticket, utcnow()).state
    return body


def _refused(exc: KontorError) -> ApiError:
    db.rollback()
    status = 422 if exc.status in (400, 422) else exc.status
    titles = {404: "Not Found", 409: "Conflict", 422: "Validation failed"}
    return ApiError(status, titles.get(status, "Refused"), exc.message, exc.as_errors())


def _ticket(ticket_id: int):
    try:
        return services.get_ticket(db, ticket_id)
    except KontorError as exc:
        raise ApiError(404, "Not Found", exc.message) from None


def register(api) -> None:
    """Add the ticket endpoints to the crm API blueprint."""

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
        return json_response(_dump(_ticket(ticket_id), with_messages=True))

    @api.post("/tickets")
    @require(TICKET_WRITE)
    @documented("Open a ticket", body=TicketInputSchema, response=TicketSchema, status=201)
    def api_ticket_create():
        data = load_body(TicketInputSchema())
        try:
            ticket = services.create_ticket(db, data, user_id=current_user.id, warn_percent=warn_percent(db))
            db.commit()
        except KontorError as exc:
            raise _refused(exc) from None
        return json_response(_dump(ticket, with_messages=True), 201)

    @api.patch("/tickets/<int:ticket_id>")
    @require(TICKET_WRITE)
    @documented("Change a ticket's fields", body=TicketInputSchema, response=TicketSchema)
    def api_ticket_update(ticket_id: int):
        ticket = _ticket(ticket_id)
        data = load_body(TicketInputSchema(), partial=True)
        try:
            services.update_ticket(db, ticket, data, warn_percent=warn_percent(db))
            db.commit()
        except KontorError as exc:
            raise _refused(exc) from None
        return json_response(_dump(ticket, with_messages=True))

    @api.post("/tickets/<int:ticket_id>/status")
    @require(TICKET_WRITE)
    @documented("Move a ticket along its workflow (new, open, waiting, resolved, closed)", body=TicketStatusSchema,
                response=TicketSchema)
    def api_ticket_status(ticket_id: int):
        ticket = _ticket(ticket_id)
        data = load_body(TicketStatusSchema())
        try:
            services.change_status(db, ticket, data["status"], user_id=current_user.id)
            db.commit()
        except KontorError as exc:
            raise _refused(exc) from None
        return json_response(_dump(ticket, with_messages=True))

    @api.post("/tickets/<int:ticket_id>/replies")
    @require(TICKET_WRITE)
    @documented("Add a reply the customer sees (kind=reply) or an internal note (kind=note)",
                body=TicketReplySchema, response=TicketMessageSchema, status=201)
    def api_ticket_reply(ticket_id: int):
        ticket = _ticket(ticket_id)
        data = load_body(TicketReplySchema())
        try:
            message = services.add_message(db, ticket, data["kind"], data["body"], user_id=current_user.id)
            db.commit()
        except KontorError as exc:
            raise _refused(exc) from None
        smtp = mail_config.smtp_config(db)
        if message.is_reply and smtp.configured:
            services.email_reply(db, message, smtp)
            db.commit()
        return json_response(TicketMessageSchema().dump(message), 201)
