"""The greeting as the JSON API shows it."""
from marshmallow import fields

from core import Schema


class GreetingSchema(Schema):
    """A greeting."""

    id = fields.Integer(dump_only=True)
    text = fields.String(required=True)
    language = fields.String(required=True)
    created_at = fields.DateTime(dump_only=True)
