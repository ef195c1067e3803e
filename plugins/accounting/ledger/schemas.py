"""The ledger's records as the JSON API shows them."""
from marshmallow import Schema, fields


class AccountSchema(Schema):
    """An account of the chart."""

    id = fields.Integer(dump_only=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)
    kind = fields.String()
    parent_id = fields.Integer(allow_none=True)
    postable = fields.Boolean()
    reconcilable = fields.Boolean()
    active = fields.Boolean()
    currency = fields.String(allow_none=True)
    balance = fields.Decimal(as_string=True, dump_only=True)


class JournalSchema(Schema):
    """A journal."""

    id = fields.Integer(dump_only=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)
    default_account_id = fields.Integer(allow_none=True)
    active = fields.Boolean()
    last_hash = fields.String(dump_only=True)


class LineSchema(Schema):
    """A line of an entry; ``account`` is the account's code on output (an id or a code on input)."""

    id = fields.Integer(dump_only=True)
    account = fields.Function(lambda line: line.account.code)
    account_id = fields.Integer(dump_only=True)
    party_id = fields.Integer(allow_none=True)
    description = fields.String()
    debit = fields.Decimal(as_string=True)
    credit = fields.Decimal(as_string=True)
    currency = fields.String(allow_none=True)
    amount_currency = fields.Decimal(as_string=True, allow_none=True)
    rate = fields.Decimal(as_string=True, allow_none=True)
    tax_id = fields.Integer(allow_none=True)
    tax_base_id = fields.Integer(allow_none=True)
    due_date = fields.Date(allow_none=True)


class EntrySchema(Schema):
    """A journal entry with its lines."""

    id = fields.Integer(dump_only=True)
    journal = fields.Function(lambda entry: entry.journal.code)
    journal_id = fields.Integer(dump_only=True)
    date = fields.Date()
    reference = fields.String()
    narration = fields.String()
    state = fields.String(dump_only=True)
    number = fields.String(dump_only=True, allow_none=True)
    sequence = fields.Integer(dump_only=True, allow_none=True)
    fiscal_year_id = fields.Integer(dump_only=True, allow_none=True)
    posted_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    posted_by_id = fields.Integer(dump_only=True, allow_none=True)
    reversal_of_id = fields.Integer(dump_only=True, allow_none=True)
    source = fields.String(dump_only=True)
    previous_hash = fields.String(dump_only=True)
    hash = fields.String(dump_only=True)
    lines = fields.List(fields.Nested(LineSchema))


class PeriodSchema(Schema):
    """A monthly period."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()
    state = fields.String()


class FiscalYearSchema(Schema):
    """A fiscal year with its periods."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    start_date = fields.Date(required=True)
    end_date = fields.Date(dump_only=True)
    state = fields.String(dump_only=True)
    closing_entry_id = fields.Integer(dump_only=True, allow_none=True)
    periods = fields.List(fields.Nested(PeriodSchema), dump_only=True)
