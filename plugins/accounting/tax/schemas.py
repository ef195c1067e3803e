"""Taxes and the VAT report as the JSON API shows and takes them.

Amounts and rates travel as decimal strings, never as JSON numbers (which readers take as floats).
"""
from marshmallow import fields, validate

from core import MoneyField, Schema, validate_country

from plugins.accounting.ledger.schemas import recorded
from plugins.accounting.tax.models import TAX_SCOPES


class TaxSchema(Schema):
    """A tax."""

    id = fields.Integer(dump_only=True)
    code = fields.String()
    name = fields.String()
    country = fields.String()
    scope = fields.String()
    rate = MoneyField()
    price_included = fields.Boolean()
    reverse_charge = fields.Boolean()
    collected_account_id = fields.Integer(allow_none=True)
    paid_account_id = fields.Integer(allow_none=True)
    report_code = fields.String()
    active = fields.Boolean()


class TaxBody(Schema):
    """A tax to create or change; accounts by code (or id), the rate as a percentage string."""

    code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    country = fields.String(load_default="", validate=lambda code: validate_country(code.upper()))
    scope = fields.String(required=True, validate=validate.OneOf(TAX_SCOPES))
    rate = MoneyField(required=True)
    price_included = fields.Boolean(load_default=False)
    reverse_charge = fields.Boolean(load_default=False)
    collected_account = fields.String(load_default=None, allow_none=True)
    paid_account = fields.String(load_default=None, allow_none=True)
    report_code = fields.String(load_default="", validate=validate.Length(max=20))
    active = fields.Boolean(load_default=True)


class DateRangeQuery(Schema):
    """A report's date range (both days included)."""

    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)


class VatRowSchema(Schema):
    """The figures of one tax in the VAT report."""

    tax_id = fields.Function(recorded("tax_id", lambda row: row.tax.id), dump_only=True)
    code = fields.Function(recorded("code", lambda row: row.tax.code), dump_only=True)
    name = fields.Function(recorded("name", lambda row: row.tax.name), dump_only=True)
    scope = fields.Function(recorded("scope", lambda row: row.tax.scope), dump_only=True)
    rate = fields.Function(recorded("rate", lambda row: str(row.tax.rate)), dump_only=True)
    report_code = fields.Function(recorded("report_code", lambda row: row.tax.report_code), dump_only=True)
    base = MoneyField()
    due = MoneyField()
    deductible = MoneyField()
    net = MoneyField()


class VatBoxSchema(Schema):
    """The figures of one box of the VAT return."""

    code = fields.String()
    base = MoneyField()
    due = MoneyField()
    deductible = MoneyField()


class VatReportSchema(Schema):
    """The VAT report of a period."""

    date_from = fields.Date()
    date_to = fields.Date()
    rows = fields.List(fields.Nested(VatRowSchema))
    boxes = fields.List(fields.Nested(VatBoxSchema))
    due = MoneyField()
    deductible = MoneyField()
    payable = MoneyField()
