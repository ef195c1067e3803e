"""The input of a note (the contract test round-trips it)."""
from marshmallow import fields

from core import Schema


class NoteSchema(Schema):
    """A note: its text."""

    text = fields.String(required=True)
