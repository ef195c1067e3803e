"""Marshmallow schemas of parties: one per shape, used by the forms and the JSON API alike."""
from __future__ import annotations

import re
from babel import Locale
from marshmallow import EXCLUDE, ValidationError, fields, post_load, pre_load, validate, validates_schema

from core.api.base import record_id_field
from core.api.schema import BoundedList, Schema, country_codes, validate_country
from core.errors import InvalidInput
from core.i18n import gettext
from core.i18n import lazy_gettext as _l

KINDS = ("company", "person")
TEXT_FIELDS = ("name", "email", "phone", "website", "vat_id", "tax_id", "street", "postal_code", "city",
               "country", "notes")

# The national part of an EU VAT id (VIES formats); Greece uses the prefix EL, Northern Ireland XI.
EU_VAT_PATTERNS = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "BG": r"\d{9,10}", "CY": r"\d{8}[A-Z]", "CZ": r"\d{8,10}",
    "DE": r"\d{9}", "DK": r"\d{8}", "EE": r"\d{9}", "EL": r"\d{9}", "ES": r"[0-9A-Z]\d{7}[0-9A-Z]",
    "FI": r"\d{8}", "FR": r"[0-9A-Z]{2}\d{9}", "HR": r"\d{11}", "HU": r"\d{8}",
    "IE": r"\d{7}[A-Z]{1,2}|\d[A-Z+*]\d{5}[A-Z]", "IT": r"\d{11}", "LT": r"\d{9}|\d{12}", "LU": r"\d{8}",
    "LV": r"\d{11}", "MT": r"\d{8}", "NL": r"\d{9}B\d{2}", "PL": r"\d{10}", "PT": r"\d{9}",
    "RO": r"\d{2,10}", "SE": r"\d{10}01", "SI": r"\d{8}", "SK": r"\d{10}", "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}
VAT_SHAPE = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,12}$")
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]{2,}$")


def load(schema: Schema, data: dict, *, partial: bool = False) -> dict:
    """``data`` validated and cleaned by ``schema``; :class:`InvalidInput` names every bad field."""
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise InvalidInput(plain_messages(exc.messages)) from None


def plain_messages(messages):
    """Marshmallow's messages with every lazy string rendered (for JSON and templates)."""
    if isinstance(messages, dict):
        return {key: plain_messages(value if isinstance(value, (dict, list, tuple)) else [value])
                for key, value in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [plain_messages(value) for value in messages]
    return str(messages)


def country_options(locale: str = "en") -> list[tuple[str, str]]:
    """(code, name in ``locale``) of every country, sorted by name, for a select box."""
    names = Locale.parse(locale).territories
    return sorted(((code, names.get(code, code)) for code in country_codes()), key=lambda o: o[1])


def country_name(code: str, locale: str | None = None) -> str:
    """The name of country ``code`` in ``locale`` (default: the user's), or the code itself."""
    if not code:
        return ""
    if locale is None:
        from flask_babel import get_locale

        locale = str(get_locale() or "en")
    return Locale.parse(locale).territories.get(code, code)


def normalise_vat_id(value: str) -> str:
    """A VAT id without spaces, dashes or dots between groups, in capitals."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def vat_id_problem(vat_id: str) -> str | None:
    """Why ``vat_id`` (normalised) is not a VAT id, or None when its format is right."""
    if not VAT_SHAPE.match(vat_id):
        return gettext("A VAT id starts with a two-letter country prefix, e.g. DK12345678.")
    pattern = EU_VAT_PATTERNS.get(vat_id[:2])
    if pattern and not re.fullmatch(pattern, vat_id[2:]):
        return gettext("This is not a valid %(prefix)s VAT id.", prefix=vat_id[:2])
    return None


def validate_email(value: str) -> None:
    """Refuse an email address that cannot be one (empty is allowed)."""
    if value and not EMAIL.match(value):
        raise ValidationError(gettext("Enter an email address such as name@example.com."))


def validate_vat_id(value: str) -> None:
    """Refuse a VAT id whose format is wrong for its country prefix (empty is allowed)."""
    problem = vat_id_problem(value) if value else None
    if problem:
        raise ValidationError(problem)


#: The most tags a party, a lead or a segment takes at once.
MAX_TAGS = 50


class TagList(fields.Field):
    """Tag names: a JSON list, or a comma-separated string from a form (the API refuses a string:
    :mod:`core.api.input` checks its list fields before the schema runs). At most ``MAX_TAGS``."""

    #: Read as a list by the API's input screen and documented as an array of names.
    takes_list = True
    max_items = MAX_TAGS

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValidationError(gettext("Give the tags as a list of names."))
        if len(value) > self.max_items:
            raise ValidationError(gettext("Give at most %(max)d tags.", max=self.max_items))
        names: list[str] = []
        seen: set[str] = set()
        for name in (v.strip() for v in value):
            if len(name) > 60:
                raise ValidationError(gettext("A tag has at most 60 characters."))
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
        return names

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return []
        return sorted((getattr(tag, "name", tag) for tag in value), key=str.casefold)


def _text(length: int, *validators) -> fields.String:
    return fields.String(validate=[validate.Length(max=length), *validators], load_default="")


class PartySchema(Schema):
    """A company or a person, as read and written by forms and the API."""

    class Meta:
        unknown = EXCLUDE
        ordered = True

    id = fields.Integer(dump_only=True)
    kind = fields.String(load_default="company", validate=validate.OneOf(KINDS, error=_l("Choose company or person.")))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200, error=_l("Enter a name (at most 200 characters).")),
                         error_messages={"required": _l("Enter a name.")})
    company_id = record_id_field(allow_none=True, load_default=None)
    email = _text(254, validate_email)
    phone = _text(40)
    website = _text(200)
    vat_id = _text(32, validate_vat_id)
    tax_id = _text(32)
    street = _text(200)
    postal_code = _text(20)
    city = _text(100)
    country = fields.String(load_default="", validate=validate_country)
    notes = fields.String(load_default="", validate=validate.Length(max=10000))
    tags = TagList(load_default=list)
    active = fields.Boolean(load_default=True)
    #: the companies of the group the party is visible in; empty: every company (on input, leaving
    #: it out keeps the party's as they are)
    companies = BoundedList(fields.Integer(error_messages={"invalid": _l("Choose companies of the group.")}),
                            attribute="company_ids", data_key="companies", load_default=None)
    merged_into_id = fields.Integer(dump_only=True, allow_none=True)
    company_name = fields.Function(lambda p: p.company.name if p.company else None, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @pre_load
    def _clean(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in TEXT_FIELDS:
            if isinstance(data.get(key), str):
                data[key] = data[key].strip()
        if isinstance(data.get("country"), str):
            data["country"] = data["country"].upper()
        if isinstance(data.get("vat_id"), str):
            data["vat_id"] = normalise_vat_id(data["vat_id"])
        if data.get("company_id") == "":
            data["company_id"] = None
        return data

    @validates_schema
    def _company_only_for_people(self, data, **kwargs):
        if data.get("kind") == "company" and data.get("company_id") is not None:
            raise ValidationError(gettext("Only a person belongs to a company."), "company_id")


class PartyQuerySchema(Schema):
    """The query of a party list: search, sort, filters and the keyset cursor."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=200))
    sort = fields.String(load_default="name", validate=validate.OneOf(
        ("name", "-name", "created", "-created", "city", "-city"), error=_l("Sort by name, created or city.")))
    after = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))
    kind = fields.String(load_default="", validate=validate.OneOf(("",) + KINDS))
    tag = fields.String(load_default="")
    country = fields.String(load_default="")
    active = fields.String(load_default="1", validate=validate.OneOf(("1", "0", "all")))

    @post_load
    def _upper(self, data, **kwargs):
        data["country"] = data["country"].upper()
        return data


class MergeSchema(Schema):
    """The party another party is merged into."""

    into = record_id_field(required=True, error_messages={"required": _l("Choose the party to keep.")})
