"""Leads as forms, imports and the JSON API see them: one schema per shape."""
from __future__ import annotations

import re

from marshmallow import EXCLUDE, ValidationError, fields, pre_load, validate

from core import (MoneyField, Schema, TagList, gettext as _, lazy_gettext as _l, normalise_vat_id, validate_currency,
                  validate_email, validate_vat_id)

from plugins.crm.leads.models import SOURCE_LABELS, STATUS_LABELS


# marshmallow's own length messages are English only
TOO_LONG = _l("Use at most {max} characters.")
EMPTY_OR_TOO_LONG = _l("Fill this in, with at most {max} characters.")

#: The statuses a lead is edited into by hand; qualify and disqualify are acts of their own.
OPEN_STATUSES = ("new", "contacted")
TEXT_FIELDS = ("name", "company_name", "email", "phone", "vat_id", "notes")
PHONE = re.compile(r"^\+?[0-9][0-9 ()./\-]{3,38}[0-9]$")
NOTES_MAX = 10_000


def validate_phone(value: str) -> None:
    """Refuse a phone number that is not digits with the usual separators (empty is allowed)."""
    if value and (not PHONE.match(value) or sum(c.isdigit() for c in value) < 5):
        raise ValidationError(_("Enter a phone number such as +45 12 34 56 78."))


def validate_name(value: str) -> None:
    """Refuse an empty name."""
    if not value:
        raise ValidationError(_("Enter a name."))


def _text(length: int, *validators) -> fields.String:
    return fields.String(validate=[validate.Length(max=length, error=TOO_LONG), *validators], load_default="")


class LeadSchema(Schema):
    """A lead: what a form, an import row or an API client gives, and what the API returns."""

    class Meta:
        unknown = EXCLUDE
        ordered = True

    EXAMPLE = {"name": "Mette Nielsen", "company_name": "Fjord Logistik ApS", "source": "website"}

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=[validate_name, validate.Length(max=200, error=TOO_LONG)])
    company_name = _text(200)
    email = _text(254, validate_email)
    phone = _text(40, validate_phone)
    vat_id = _text(32, validate_vat_id)
    source = fields.String(load_default="other", validate=validate.OneOf(list(SOURCE_LABELS)))
    # written: an open status only; read: any status (qualifying and disqualifying are acts of their own)
    status = fields.String(load_default="new", validate=validate.OneOf(OPEN_STATUSES),
                           metadata={"enum": list(STATUS_LABELS), "description": "Written as new or contacted."})
    owner_id = fields.Integer(allow_none=True, load_default=None, strict=False,
                              validate=validate.Range(min=1, max=2**31 - 1))
    notes = _text(NOTES_MAX)
    tags = TagList(load_default=list)
    campaign_id = fields.Integer(allow_none=True, load_default=None, strict=False,
                                 validate=validate.Range(min=1, max=2**31 - 1))
    party_id = fields.Integer(dump_only=True, allow_none=True)
    disqualify_reason = fields.String(dump_only=True)
    merged_into_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    converted_at = fields.DateTime(dump_only=True, allow_none=True)

    @pre_load
    def _clean(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in TEXT_FIELDS:
            if isinstance(data.get(key), str):
                data[key] = data[key].strip()
        if isinstance(data.get("vat_id"), str):
            data["vat_id"] = normalise_vat_id(data["vat_id"])
        for key in ("owner_id", "campaign_id", "source", "status"):
            if data.get(key) == "":
                data.pop(key)
        return data


class LeadQuerySchema(Schema):
    """The filters of a lead list (UI and API alike)."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=200, error=TOO_LONG))
    status = fields.String(load_default="", validate=validate.OneOf(["", *STATUS_LABELS]))
    source = fields.String(load_default="", validate=validate.OneOf(["", *SOURCE_LABELS]))
    owner_id = fields.String(load_default="", validate=validate.Regexp(r"^(|none|\d{1,10})$"))
    tag = fields.String(load_default="", validate=validate.Length(max=60, error=TOO_LONG))
    sort = fields.String(load_default="-created", validate=validate.OneOf(
        ("created", "-created", "name", "-name", "company", "-company", "status", "-status")))
    after = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ConvertSchema(Schema):
    """Qualifying a lead: the party to create or link, and the opportunity to open."""

    class Meta:
        unknown = EXCLUDE

    EXAMPLE = {"create_party": True, "title": "Fleet renewal"}

    party_id = fields.Integer(allow_none=True, load_default=None, strict=False,
                              validate=validate.Range(min=1, max=2**31 - 1))
    create_party = fields.Boolean(load_default=False)
    title = _text(200)
    expected_revenue = MoneyField(allow_none=True, load_default=None, places=2, validate=validate.Range(min=0))
    currency = fields.String(load_default="", validate=validate_currency)
    expected_close = fields.Date(allow_none=True, load_default=None)

    @pre_load
    def _blanks(self, data, **kwargs):
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if v != ""}
            if isinstance(data.get("currency"), str):
                data["currency"] = data["currency"].strip().upper()
        return data


class DisqualifySchema(Schema):
    """Disqualifying a lead: why."""

    class Meta:
        unknown = EXCLUDE

    EXAMPLE = {"reason": "No budget this year"}

    reason = fields.String(required=True, validate=validate.Length(min=1, max=500, error=EMPTY_OR_TOO_LONG))

    @pre_load
    def _strip(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            data = {**data, "reason": data["reason"].strip()}
        return data


class DuplicateSchema(Schema):
    """A possible duplicate of a lead: another lead or a party."""

    kind = fields.String()
    id = fields.Integer()
    name = fields.String()
    reason = fields.String()


class ConversionSchema(Schema):
    """What qualifying a lead made: the opportunity and the party."""

    lead = fields.Nested(LeadSchema)
    opportunity_id = fields.Integer()
    party_id = fields.Integer()
