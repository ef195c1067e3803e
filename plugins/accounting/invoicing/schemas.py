"""Invoices as the JSON API shows and takes them.

Lines are checked by the service (so that an error names ``lines[2].quantity``); the schemas here
only shape the header and the output.
"""
from decimal import Decimal

from marshmallow import EXCLUDE, fields, validate

from core import BoundedList, MoneyField, Schema, validate_currency

from plugins.accounting.invoicing.models import KINDS, STATES
from plugins.accounting.ledger.schemas import recorded

#: The most lines a document takes, and taxes a line.
MAX_LINES = 500
MAX_LINE_TAXES = 20


def figure(value: Decimal | None, places: int = 0) -> str | None:
    """A stored figure as a decimal string without padding zeros beyond ``places`` decimals."""
    if value is None:
        return None
    value = Decimal(value)
    plain = value.normalize()
    if -plain.as_tuple().exponent < places:
        plain = value.quantize(Decimal(1).scaleb(-places))
    return format(plain, "f")


class InvoiceLineSchema(Schema):
    """A line: quantities and amounts as decimal strings."""

    id = fields.Integer(dump_only=True)
    description = fields.String()
    quantity = fields.Function(recorded("quantity", lambda line: figure(line.quantity)))
    unit_price = fields.Function(recorded("unit_price", lambda line: figure(line.unit_price, 2)))
    discount_percent = fields.Function(recorded("discount_percent", lambda line: figure(line.discount_percent)))
    account = fields.Function(recorded("account", lambda line: line.account.code if line.account else None))
    taxes = fields.Function(recorded("taxes", lambda line: [tax.code for tax in line.taxes]))
    amount_untaxed = MoneyField(dump_only=True)
    amount_tax = MoneyField(dump_only=True)
    amount_total = MoneyField(dump_only=True)


class InvoiceSchema(Schema):
    """An invoice, bill or credit note with its lines."""

    EXAMPLE = {"kind": "out_invoice", "party_id": 1, "currency": "DKK"}

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(dump_only=True)
    kind = fields.String(validate=validate.OneOf(KINDS))
    number = fields.String(dump_only=True, allow_none=True)
    party_id = fields.Integer()
    invoice_date = fields.Date()
    due_date = fields.Date()
    payment_terms_days = fields.Integer()
    currency = fields.String()
    rate = MoneyField(dump_only=True)
    state = fields.String(dump_only=True, validate=validate.OneOf(STATES))
    amount_untaxed = MoneyField(dump_only=True)
    amount_tax = MoneyField(dump_only=True)
    amount_total = MoneyField(dump_only=True)
    amount_residual = MoneyField(dump_only=True)
    refund_of_id = fields.Integer(dump_only=True, allow_none=True)
    entry_id = fields.Integer(dump_only=True, allow_none=True)
    reference = fields.String()
    notes = fields.String()
    lines = fields.List(fields.Nested(InvoiceLineSchema), dump_only=True)


class LineFigure(MoneyField):
    """A line's figure, a decimal string: a float is refused here, the rest is checked by the
    service, so that an error names ``lines[2].quantity``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise self.make_error("float")
        return value


class InvoiceLineBodySchema(Schema):
    """A line as a create or change takes it; the figures are decimal strings (or integers)."""

    description = fields.Raw()
    quantity = LineFigure()
    unit_price = LineFigure()
    discount_percent = LineFigure()
    taxes = BoundedList(fields.Raw(), max_items=MAX_LINE_TAXES, metadata={"description": "tax codes or ids"})
    account = fields.Raw(metadata={"description": "account code"})


class InvoiceBodySchema(Schema):
    """The body of a create or change: header fields, and lines as a list of objects with
    description, quantity, unit_price, discount_percent (decimal strings), taxes (codes or ids)
    and account (a code)."""

    EXAMPLE = {"kind": "out_invoice", "party_id": 1,
               "lines": [{"description": "Consulting", "quantity": "2", "unit_price": "100.00"}]}

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(validate=validate.OneOf(KINDS))
    party_id = fields.Raw()
    invoice_date = fields.Raw()
    due_date = fields.Raw(allow_none=True)
    payment_terms_days = fields.Raw()
    currency = fields.String(validate=lambda code: validate_currency(code.upper()))
    reference = fields.String()
    notes = fields.String()
    lines = BoundedList(fields.Nested(InvoiceLineBodySchema), max_items=MAX_LINES)


class CreditNoteBodySchema(Schema):
    """What to credit: every line (no ``lines``), or the lines given; dated ``date`` (optional)."""

    class Meta:
        unknown = EXCLUDE

    date = fields.Date(allow_none=True)
    lines = BoundedList(fields.Raw(), max_items=MAX_LINES, allow_none=True)


class InvoiceQuerySchema(Schema):
    """Filters of the invoice list."""

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(validate=validate.OneOf(KINDS))
    q = fields.String(validate=validate.Length(max=200))
    state = fields.String(validate=validate.OneOf((*STATES, "open")))
    party_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    date_from = fields.Date()
    date_to = fields.Date()
    overdue = fields.Boolean()
    after = fields.String()
    limit = fields.Integer(validate=validate.Range(min=1, max=200))


class InvoiceMailBodySchema(Schema):
    """The message of an invoice sent by e-mail; each field left out takes its default."""

    class Meta:
        unknown = EXCLUDE

    to = fields.String(validate=validate.Length(max=254))
    to_name = fields.String(validate=validate.Length(max=200))
    subject = fields.String(validate=validate.Length(max=500))
    body = fields.String(validate=validate.Length(max=20000))


class InvoiceMailSchema(Schema):
    """A message of the mail log about an invoice: to whom, and what came of it."""

    id = fields.Integer(dump_only=True)
    to = fields.String(attribute="to_address", dump_only=True)
    to_name = fields.String(dump_only=True)
    subject = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    error = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    sent_at = fields.DateTime(dump_only=True, allow_none=True)
