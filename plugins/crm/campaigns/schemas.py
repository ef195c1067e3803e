"""Campaigns as the JSON API reads and writes them."""
from marshmallow import EXCLUDE, fields, validate

from core import Schema, lazy_gettext as _l

# marshmallow's own length messages are English only
TOO_LONG = _l("Use at most {max} characters.")
EMPTY_OR_TOO_LONG = _l("Fill this in, with at most {max} characters.")


class CampaignSchema(Schema):
    """A campaign as the API returns it, with its send's progress."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    segment_id = fields.Integer(allow_none=True)
    subject = fields.String()
    body = fields.String()
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    started_at = fields.DateTime(dump_only=True, allow_none=True)
    finished_at = fields.DateTime(dump_only=True, allow_none=True)
    progress = fields.Dict(dump_only=True)


class CampaignInputSchema(Schema):
    """What a client sends to create or change a draft."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1, max=120, error=EMPTY_OR_TOO_LONG))
    segment_id = fields.Integer(strict=False, allow_none=True, load_default=None,
                                validate=validate.Range(min=1, max=2**31 - 1))
    subject = fields.String(load_default="", validate=validate.Length(max=200, error=TOO_LONG))
    body = fields.String(load_default="", validate=validate.Length(max=100_000, error=TOO_LONG))


class CampaignQuerySchema(Schema):
    """The filters of the campaign list."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=200, error=TOO_LONG))
    status = fields.String(load_default="", validate=validate.OneOf(("", "draft", "sending", "sent")))


class SegmentSchema(Schema):
    """A segment: a saved filter over parties and leads (lists are comma-separated)."""

    class Meta:
        unknown = EXCLUDE

    EXAMPLE = {"name": "Danish customers", "include_parties": True, "countries": "DK"}

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120, error=EMPTY_OR_TOO_LONG))
    include_parties = fields.Boolean(load_default=True)
    include_leads = fields.Boolean(load_default=False)
    tags = fields.String(load_default="", validate=validate.Length(max=500, error=TOO_LONG))
    countries = fields.String(load_default="", validate=validate.Length(max=200, error=TOO_LONG))
    party_kind = fields.String(load_default="", validate=validate.OneOf(("", "company", "person")))
    lead_statuses = fields.String(load_default="", validate=validate.Length(max=200, error=TOO_LONG))
    lead_sources = fields.String(load_default="", validate=validate.Length(max=500, error=TOO_LONG))
    created_at = fields.DateTime(dump_only=True)
    count = fields.Dict(dump_only=True)
