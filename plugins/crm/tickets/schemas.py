"""Tickets as the JSON API reads and writes them."""
from marshmallow import EXCLUDE, fields, validate

from core import record_id_field, Schema, lazy_gettext as _l

from plugins.crm.tickets.models import PRIORITIES, STATUSES

# marshmallow's own length messages are English only
TOO_LONG = _l("Use at most {max} characters.")
EMPTY_OR_TOO_LONG = _l("Fill this in, with at most {max} characters.")


class TicketMessageSchema(Schema):
    """One entry of a ticket's conversation."""

    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    author_id = fields.Integer(dump_only=True, allow_none=True)  # none for the customer's own messages
    created_at = fields.DateTime(dump_only=True)
    emailed_to = fields.String(dump_only=True)
    email_error = fields.String(dump_only=True)


class TicketSchema(Schema):
    """A ticket as the API returns it (the conversation only on a single ticket)."""

    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    subject = fields.String()
    description = fields.String()
    priority = fields.String()
    status = fields.String()
    party_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    contact_email = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    response_due = fields.DateTime(dump_only=True)
    resolution_due = fields.DateTime(dump_only=True)
    first_response_at = fields.DateTime(dump_only=True, allow_none=True)
    resolved_at = fields.DateTime(dump_only=True, allow_none=True)
    closed_at = fields.DateTime(dump_only=True, allow_none=True)
    sla = fields.String(dump_only=True)
    messages = fields.List(fields.Nested(TicketMessageSchema), dump_only=True)


class TicketInputSchema(Schema):
    """What a client sends to open or change a ticket."""

    class Meta:
        unknown = EXCLUDE

    subject = fields.String(required=True, validate=validate.Length(min=1, max=200, error=EMPTY_OR_TOO_LONG))
    description = fields.String(load_default="", validate=validate.Length(max=20000, error=TOO_LONG))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    party_id = record_id_field(allow_none=True, load_default=None)
    contact_id = record_id_field(allow_none=True, load_default=None)
    contact_email = fields.String(load_default="", validate=validate.Length(max=254, error=TOO_LONG))
    assignee_id = record_id_field(allow_none=True, load_default=None)


class TicketStatusSchema(Schema):
    """A move along the workflow."""

    status = fields.String(required=True, validate=validate.OneOf(STATUSES))


class TicketReplySchema(Schema):
    """A reply the customer sees, or an internal note."""

    body = fields.String(required=True, validate=validate.Length(min=1, max=20000, error=EMPTY_OR_TOO_LONG))
    kind = fields.String(load_default="reply", validate=validate.OneOf(("reply", "note")))


class TicketQuerySchema(Schema):
    """The filters of the ticket list."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=200, error=TOO_LONG))
    status = fields.String(load_default="", validate=validate.OneOf(("", "active", *STATUSES)))
    priority = fields.String(load_default="", validate=validate.OneOf(("", *PRIORITIES)))
    assignee = fields.String(load_default="", validate=validate.Regexp(r"^(|me|none|\d{1,9})$"))
    sla = fields.String(load_default="", validate=validate.OneOf(("", "breached", "at_risk")))
    party_id = record_id_field(allow_none=True, load_default=None)
    sort = fields.String(load_default="-created", validate=validate.OneOf(
        ("created", "-created", "number", "-number", "subject", "-subject", "priority", "-priority", "status",
         "-status", "due", "-due")))
    after = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
