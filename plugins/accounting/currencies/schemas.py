"""Currencies, exchange rates and the revaluation as the JSON API shows and takes them.

Rates travel as decimal strings, never as JSON numbers (which readers take as floats).
"""
from marshmallow import fields, validate

from core import MoneyField, Schema, validate_currency


class CurrencySchema(Schema):
    """A currency and its minor unit."""

    code = fields.String()
    name = fields.String()
    digits = fields.Integer()
    active = fields.Boolean()


class CurrencyBody(Schema):
    """A change to a currency."""

    name = fields.String(validate=validate.Length(min=1, max=60))
    digits = fields.Integer(strict=True, validate=validate.Range(min=0, max=3))
    active = fields.Boolean()


class RateSchema(Schema):
    """An exchange rate: one unit of ``currency`` in the company currency from ``date`` on."""

    id = fields.Integer(dump_only=True)
    currency = fields.String()
    date = fields.Date()
    rate = MoneyField()


class RateBody(Schema):
    """A rate to record."""

    EXAMPLE = {"currency": "EUR", "date": "2024-01-31", "rate": "7.4600"}

    currency = fields.String(required=True, validate=lambda code: validate_currency(code.upper()))
    date = fields.Date(required=True)
    rate = MoneyField(required=True)


class RatesQuery(Schema):
    """Filters of the rates list."""

    currency = fields.String(load_default="", validate=validate.Length(max=3))
    after = fields.String(load_default=None)
    size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class RevaluationBody(Schema):
    """The day of an unrealised exchange revaluation."""

    date = fields.Date(required=True)
