"""Payments and bank statements as the JSON API reads and writes them (amounts as decimal strings)."""
from marshmallow import fields, validate

from core import BoundedList, MoneyField, Schema, validate_currency

MAX_ID = 2**31 - 1
#: The most invoices one payment or statement line settles.
MAX_ITEMS = 500


def _id(**kwargs):
    kwargs.setdefault("strict", True)
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def _money(**kwargs):
    return MoneyField(**kwargs)


class AllocationSchema(Schema):
    """An invoice (its id or number) and the part of the payment that settles it."""

    invoice = fields.Raw(required=True, metadata={"description": "invoice id or number"})
    amount = MoneyField(required=True, metadata={"description": "decimal string in the payment's currency"})


class PaymentCreateSchema(Schema):
    """What registering a payment takes."""

    EXAMPLE = {"party_id": 1, "amount": "100.00", "currency": "DKK", "date": "2026-01-02", "kind": "inbound"}

    party_id = _id(required=True)
    amount = MoneyField(required=True, metadata={"description": "decimal string"})
    currency = fields.String(required=True, validate=[validate.Length(equal=3), validate_currency])
    date = fields.Date(required=True)
    journal = fields.String(load_default="BNK", validate=validate.Length(min=1, max=10))
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("inbound", "outbound")))
    reference = fields.String(load_default="", validate=validate.Length(max=140))
    allocations = BoundedList(fields.Nested(AllocationSchema), max_items=MAX_ITEMS, load_default=list)
    writeoff_account = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20),
                                     metadata={"description": "account code the unpaid rest of each invoice "
                                                              "is written off to"})


class AllocationOutSchema(Schema):
    """An allocation of a registered payment."""

    invoice_id = fields.Integer()
    invoice_number = fields.String(attribute="invoice.number")
    amount = _money()
    writeoff = _money()


class PaymentSchema(Schema):
    """A registered payment."""

    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    party_id = fields.Integer(dump_only=True)
    party_name = fields.String(attribute="party.name", dump_only=True)
    kind = fields.String(dump_only=True)
    date = fields.Date(dump_only=True)
    amount = _money(dump_only=True)
    currency = fields.String(dump_only=True)
    rate = _money(dump_only=True)
    amount_company = _money(dump_only=True)
    journal = fields.String(attribute="journal.code", dump_only=True)
    reference = fields.String(dump_only=True)
    entry_id = fields.Integer(dump_only=True)
    state = fields.String(dump_only=True)
    unallocated = _money(dump_only=True)
    writeoff_amount = _money(dump_only=True)
    allocations = fields.List(fields.Nested(AllocationOutSchema), dump_only=True)


class PaymentQuerySchema(Schema):
    """Filters of the payment list."""

    q = fields.String(load_default="", validate=validate.Length(max=200))
    kind = fields.String(load_default="", validate=validate.OneOf(("", "inbound", "outbound")))
    party_id = _id(load_default=None, strict=False)
    journal = fields.String(load_default="", validate=validate.Length(max=10))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    sort = fields.String(load_default="-date",
                         validate=validate.OneOf(("date", "-date", "number", "-number", "amount", "-amount")))
    after = fields.String(load_default=None, validate=validate.Length(max=500))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class SuggestionSchema(Schema):
    """An open invoice a statement line may settle."""

    invoice_id = fields.Integer(attribute="invoice.id")
    invoice_number = fields.String(attribute="invoice.number")
    party_id = fields.Integer(attribute="invoice.party_id")
    amount_residual = _money(attribute="invoice.amount_residual")
    reasons = fields.List(fields.String())
    score = fields.Integer()


class StatementLineSchema(Schema):
    """A line of a bank statement."""

    id = fields.Integer(dump_only=True)
    sequence = fields.Integer(dump_only=True)
    date = fields.Date(dump_only=True)
    amount = _money(dump_only=True)
    description = fields.String(dump_only=True)
    reference = fields.String(dump_only=True)
    counterparty = fields.String(dump_only=True)
    counterparty_account = fields.String(dump_only=True)
    balance = _money(dump_only=True, allow_none=True)
    state = fields.String(dump_only=True)
    payment_id = fields.Integer(dump_only=True, allow_none=True)
    entry_id = fields.Integer(dump_only=True, allow_none=True)


class StatementSchema(Schema):
    """A bank statement (with its lines when one is asked for)."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    journal = fields.String(attribute="journal.code", dump_only=True)
    currency = fields.String(dump_only=True)
    date = fields.Date(dump_only=True)
    account_number = fields.String(dump_only=True)
    opening_balance = _money(dump_only=True, allow_none=True)
    closing_balance = _money(dump_only=True, allow_none=True)
    format = fields.String(dump_only=True)
    filename = fields.String(dump_only=True)
    line_count = fields.Integer(dump_only=True)
    unmatched_count = fields.Integer(dump_only=True)


class StatementLineDetailSchema(StatementLineSchema):
    """A statement line with its suggested matches (empty once matched)."""

    suggestions = fields.List(fields.Nested(SuggestionSchema), dump_only=True)


class StatementDetailSchema(StatementSchema):
    """A bank statement with its lines and the difference between its balances and its lines."""

    lines = fields.List(fields.Nested(StatementLineDetailSchema), dump_only=True)
    balance_difference = _money(dump_only=True, allow_none=True)


class StatementQuerySchema(Schema):
    """Filters of the statement list."""

    q = fields.String(load_default="", validate=validate.Length(max=200))
    state = fields.String(load_default="", validate=validate.OneOf(("", "open", "done")))
    after = fields.String(load_default=None, validate=validate.Length(max=500))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ConfirmSchema(Schema):
    """How a statement line is matched: invoices to pay, or a party (open credit), or an account."""

    invoices = BoundedList(fields.Raw(), max_items=MAX_ITEMS, load_default=list,
                           metadata={"description": "invoice ids or numbers"})
    party_id = _id(load_default=None, allow_none=True)
    account = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))


class OpenItemQuerySchema(Schema):
    """Which open items to list."""

    kind = fields.String(load_default="receivable", validate=validate.OneOf(("receivable", "payable")))
    party_id = _id(load_default=None, strict=False)
    on = fields.Date(load_default=None)


class OpenItemSchema(Schema):
    """A receivable or payable line still open (signed: positive on the debit side)."""

    line_id = fields.Integer()
    entry_id = fields.Integer()
    number = fields.String()
    date = fields.Date()
    due_date = fields.Date(allow_none=True)
    party_id = fields.Integer(allow_none=True)
    party_name = fields.String(allow_none=True)
    account_code = fields.String()
    amount = _money()
    open = _money()
    currency = fields.String()
    open_currency = _money()
    invoice_id = fields.Integer(allow_none=True)
    invoice_number = fields.String(allow_none=True)
