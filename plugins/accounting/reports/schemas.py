"""The reports' query parameters (pages and API alike) and their JSON shapes."""
from marshmallow import fields, validate, validates_schema, ValidationError

from core import Schema, lazy_gettext as _l

from plugins.accounting.reports.figures import COMPARISONS


class RangeQuery(Schema):
    """A date range; both ends default (start of the fiscal year, today)."""

    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)

    @validates_schema
    def _ordered(self, data, **_kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError(str(_l("The end date is before the start date.")), "date_to")


class TrialBalanceQuery(RangeQuery):
    roll_up = fields.Boolean(load_default=False)


class LedgerQuery(RangeQuery):
    after = fields.String(load_default=None, validate=validate.Length(max=40))
    size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class StatementQuery(RangeQuery):
    compare = fields.String(load_default="none", validate=validate.OneOf(COMPARISONS))
    compare_from = fields.Date(load_default=None)
    compare_to = fields.Date(load_default=None)

    @validates_schema
    def _custom(self, data, **_kwargs):
        if data.get("compare") != "custom":
            return
        if not data.get("compare_from"):
            raise ValidationError(str(_l("Give the start of the comparison period.")), "compare_from")
        if not data.get("compare_to"):
            raise ValidationError(str(_l("Give the end of the comparison period.")), "compare_to")
        if data["compare_to"] < data["compare_from"]:
            raise ValidationError(str(_l("The comparison period ends before it starts.")), "compare_to")


class AgedQuery(Schema):
    """The day open items are aged on (default today)."""

    on = fields.Date(load_default=None)


class Download(Schema):
    """A report page's ``format``: the page itself, or a CSV or XLSX download of it."""

    format = fields.String(load_default="", validate=validate.OneOf(("", "html", "csv", "xlsx")))


class TrialBalancePage(TrialBalanceQuery, Download):
    """The trial balance page's parameters."""


class LedgerPage(LedgerQuery, Download):
    """The general ledger page's parameters."""


class StatementPage(StatementQuery, Download):
    """The profit and loss and balance sheet pages' parameters."""


class AgedPage(AgedQuery, Download):
    """The aged receivables and payables pages' parameters."""
