"""Stages, opportunities and the forecast as the JSON API shows and takes them."""
from marshmallow import EXCLUDE, fields, validate

from core import MoneyField, Schema, lazy_gettext as _l, validate_currency

from plugins.crm.pipeline.models import STATUS_LABELS

# marshmallow's own length messages are English only
TOO_LONG = _l("Use at most {max} characters.")
EMPTY_OR_TOO_LONG = _l("Fill this in, with at most {max} characters.")

ID = dict(strict=False, validate=validate.Range(min=1, max=2**31 - 1))


class StageSchema(Schema):
    """A pipeline stage."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=80, error=EMPTY_OR_TOO_LONG))
    sequence = fields.Integer(strict=False, validate=validate.Range(min=0, max=100000))
    probability = fields.Integer(strict=False, validate=validate.Range(min=0, max=100))
    is_won = fields.Boolean()
    is_lost = fields.Boolean()
    fold = fields.Boolean()
    active = fields.Boolean()


class OpportunitySchema(Schema):
    """An opportunity; ``stage_id`` on create picks the first stage (later moves use the stage endpoint)."""

    class Meta:
        unknown = EXCLUDE

    EXAMPLE = {"party_id": 1, "title": "Example", "owner_id": 1}

    id = fields.Integer(dump_only=True)
    party_id = fields.Integer(required=True, **ID)
    party_name = fields.Function(lambda o: o.party.name if getattr(o, "party", None) else None, dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200, error=EMPTY_OR_TOO_LONG))
    expected_revenue = MoneyField(validate=validate.Range(min=0, error=_l("The amount cannot be negative.")))
    #: the discount asked for, in percent ("15.00" for 15 %)
    discount = MoneyField(validate=validate.Range(min=0, max=100, error=_l("Enter a percentage from 0 to 100.")))
    currency = fields.String(validate=[validate.Length(equal=3), validate_currency])
    probability = fields.Integer(strict=False, validate=validate.Range(min=0, max=100), allow_none=True)
    weighted_revenue = MoneyField(places=2, dump_only=True)
    expected_close = fields.Date(allow_none=True)
    owner_id = fields.Integer(**ID)
    stage_id = fields.Integer(**ID)
    stage_name = fields.Function(lambda o: o.stage.name if getattr(o, "stage", None) else None, dump_only=True)
    status = fields.String(dump_only=True)
    lost_reason = fields.String(validate=validate.Length(max=200, error=TOO_LONG))
    lead_id = fields.Integer(dump_only=True, allow_none=True)
    campaign_id = fields.Integer(allow_none=True, **ID)
    created_at = fields.DateTime(dump_only=True)
    closed_at = fields.DateTime(dump_only=True, allow_none=True)


class StageChangeSchema(Schema):
    """Move an opportunity to a stage (a lost stage needs a reason)."""

    class Meta:
        unknown = EXCLUDE

    stage_id = fields.Integer(required=True, **ID)
    lost_reason = fields.String(load_default="", validate=validate.Length(max=200, error=TOO_LONG))


class OpportunityQuerySchema(Schema):
    """Filters of the opportunity list."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=100, error=TOO_LONG))
    stage_id = fields.Integer(**ID)
    owner_id = fields.Integer(**ID)
    close_month = fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))
    status = fields.String(validate=validate.OneOf(list(STATUS_LABELS)))
    after = fields.String()
    limit = fields.Integer(strict=False, load_default=50, validate=validate.Range(min=1, max=200))


class ForecastQuerySchema(Schema):
    """Filters of the forecast: the search and the owner (it sums every stage, month and status)."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=100, error=TOO_LONG))
    owner_id = fields.Integer(**ID)
