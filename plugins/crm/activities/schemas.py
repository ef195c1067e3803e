"""Activities as the JSON API shows and takes them."""
from marshmallow import EXCLUDE, fields, validate

from core import Schema, lazy_gettext as _l

from plugins.crm.activities.models import KINDS

# marshmallow's own length messages are English only
TOO_LONG = _l("Use at most {max} characters.")
EMPTY_OR_TOO_LONG = _l("Fill this in, with at most {max} characters.")

ID = dict(strict=False, validate=validate.Range(min=1, max=2**31 - 1))


class ActivitySchema(Schema):
    """A call, meeting, email or task linked to a party, a lead and/or an opportunity."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200, error=EMPTY_OR_TOO_LONG))
    due_at = fields.AwareDateTime(allow_none=True, default_timezone=None)
    assignee_id = fields.Integer(**ID)
    done = fields.Boolean()
    done_at = fields.DateTime(dump_only=True, allow_none=True)
    notes = fields.String(validate=validate.Length(max=20000, error=TOO_LONG))
    party_id = fields.Integer(allow_none=True, **ID)
    lead_id = fields.Integer(allow_none=True, **ID)
    opportunity_id = fields.Integer(allow_none=True, **ID)
    overdue = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class ActivityDoneSchema(Schema):
    """Ticking an activity off (``done``: true, the default) or reopening it (false)."""

    done = fields.Boolean(load_default=True)


class ActivityQuerySchema(Schema):
    """Filters of the activity list."""

    class Meta:
        unknown = EXCLUDE

    view = fields.String(load_default="all", validate=validate.OneOf(["open", "overdue", "today", "upcoming", "done",
                                                                       "all"]))
    kind = fields.String(validate=validate.OneOf(KINDS))
    assignee_id = fields.Integer(**ID)
    q = fields.String(load_default="", validate=validate.Length(max=100, error=TOO_LONG))
    after = fields.String()
    limit = fields.Integer(strict=False, load_default=50, validate=validate.Range(min=1, max=200))
