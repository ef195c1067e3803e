"""Schemas of the audit log: the filters of a search, a record as the API shows it, a verification."""
from __future__ import annotations

import json

from marshmallow import EXCLUDE, ValidationError, fields, post_load, pre_load, validate, validates_schema

from core.api.schema import Schema

from core.audit.services import AuditFilters
from core.i18n import lazy_gettext as _l

_FILTER_FIELDS = ("user", "module", "table", "record_id", "action", "date_from", "date_to")


class AuditQuerySchema(Schema):
    """Filters of an audit search (user name, module, table, record id, action, UTC dates) and paging."""

    class Meta:
        unknown = EXCLUDE

    user = fields.String(load_default="", validate=validate.Length(max=80))
    module = fields.String(load_default="", validate=validate.Length(max=64))
    table = fields.String(load_default="", validate=validate.Length(max=80))
    record_id = fields.String(load_default="", validate=validate.Length(max=80))
    action = fields.String(load_default="", validate=validate.Length(max=40))
    date_from = fields.Date(load_default=None, allow_none=True)
    date_to = fields.Date(load_default=None, allow_none=True)
    after = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))

    @pre_load
    def _drop_empty(self, data, **kwargs):
        # an empty form field means "no filter"
        return {k: v for k, v in dict(data).items() if not (isinstance(v, str) and v.strip() == "")}

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError(_l("The end date is before the start date."), "date_to")

    @post_load
    def _filters(self, data, **kwargs):
        filters = AuditFilters(**{k: (data[k].strip() if isinstance(data[k], str) else data[k])
                                  for k in _FILTER_FIELDS})
        return {"filters": filters, "after": data["after"], "limit": data["limit"]}


class AuditRecordSchema(Schema):
    """One audit record: who, when, from where, what, and the changed fields' [before, after]."""

    seq = fields.Integer()
    at = fields.DateTime()
    user_id = fields.Integer(allow_none=True)
    username = fields.String()
    origin = fields.String()
    action = fields.String()
    module = fields.String()
    table_name = fields.String()
    record_id = fields.String()
    changes = fields.Function(lambda record: json.loads(record.changes or "{}"),
                              metadata={"description": "field name → [before, after]"})
    prev_hash = fields.String()
    hash = fields.String()


class VerifySchema(Schema):
    """The result of verifying the hash chain."""

    intact = fields.Boolean()
    records = fields.Integer()
    broken_at = fields.Integer(allow_none=True)
    reason = fields.String()
