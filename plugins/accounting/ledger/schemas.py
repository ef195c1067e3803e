"""The ledger's records as the JSON API shows them."""
from marshmallow import fields, missing

from core import BoundedList, MoneyField, Schema, validate_currency

#: The most lines an entry takes.
MAX_LINES = 500


def _as_given(value):
    """Input read as sent; the ledger's services resolve ids and codes."""
    return value


def recorded(name: str, read):
    """A dump function: ``read(record)`` of a record, or of a dict (what the schema itself loaded)
    its ``name`` as given, so that a schema dumps its own input too."""

    def get(obj):
        if isinstance(obj, dict):
            return obj.get(name, missing)
        return read(obj)

    return get


class AccountSchema(Schema):
    """An account of the chart."""

    id = fields.Integer(dump_only=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)
    kind = fields.String()
    parent_id = fields.Integer(allow_none=True)
    parent = fields.String(load_only=True, metadata={"description": "the parent's code (instead of parent_id)"})
    postable = fields.Boolean()
    reconcilable = fields.Boolean()
    active = fields.Boolean()
    intercompany = fields.Boolean(metadata={"description": "an account between companies of the group, eliminated "
                                                           "in consolidated reports"})
    currency = fields.String(allow_none=True, validate=validate_currency)
    balance = MoneyField(dump_only=True)


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
    account = fields.Function(recorded("account", lambda line: line.account.code), _as_given)
    account_id = fields.Integer(dump_only=True)
    party_id = fields.Integer(allow_none=True)
    description = fields.String()
    debit = MoneyField()
    credit = MoneyField()
    currency = fields.String(allow_none=True, validate=validate_currency)
    amount_currency = MoneyField(allow_none=True)
    rate = MoneyField(allow_none=True)
    tax_id = fields.Integer(allow_none=True)
    tax_base_id = fields.Integer(allow_none=True)
    tax_base_ids = fields.Function(recorded("tax_base_ids", lambda line: line.tax_base_ids), _as_given,
                                   metadata={"description": "every tax this line is the base of"})
    due_date = fields.Date(allow_none=True)


class EntrySchema(Schema):
    """A journal entry with its lines."""

    id = fields.Integer(dump_only=True)
    journal = fields.Function(recorded("journal", lambda entry: entry.journal.code), _as_given)
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
    reversed_by_id = fields.Integer(dump_only=True, allow_none=True)
    source = fields.String(dump_only=True)
    previous_hash = fields.String(dump_only=True)
    hash = fields.String(dump_only=True)
    lines = BoundedList(fields.Nested(LineSchema), max_items=MAX_LINES)


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


class DatedActBody(Schema):
    """The optional body of an act that may be dated (reversing an entry, cancelling a payment):
    ``date`` as YYYY-MM-DD, by default the entry's own date when still open, else today."""

    date = fields.String(allow_none=True)


class AccountRoleSchema(Schema):
    """An account role a module declares and the account it posts to now (``mapped``: chosen by
    the company, else its default code's account; ``account_id`` null when it has none)."""

    key = fields.String(required=True)
    label = fields.String(dump_only=True)
    account_types = fields.List(fields.String(), dump_only=True)
    default_code = fields.String(dump_only=True)
    account_id = fields.Integer(allow_none=True)
    account_code = fields.String(allow_none=True, dump_only=True)
    mapped = fields.Boolean(dump_only=True)


class AccountRolesBody(Schema):
    """Map roles to accounts: ``accounts`` is ``{role key: account code or id}``; null or "" puts
    a role back on its default. Roles not named keep their account."""

    accounts = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)
