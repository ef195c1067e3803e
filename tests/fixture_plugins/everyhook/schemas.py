"""The shape of a thing in the API."""
from marshmallow import Schema, fields, validate


class ThingSchema(Schema):
    """A thing."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    party_id = fields.Integer(allow_none=True, load_default=None)


class ThingQuerySchema(Schema):
    """Filters of the thing list."""

    name = fields.String(load_default=None)
